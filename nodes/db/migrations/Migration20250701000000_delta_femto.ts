import { Migration } from '@mikro-orm/migrations';

/**
 * δ moves from pico-units (10⁻¹²) to femto-units (10⁻¹⁵), the unit the gateway's ledger uses
 * (`schema/privacy/units.ts`): every stored δ is multiplied by 1,000, exactly. The same SQL on
 * both platforms (BIGINT arithmetic). `down` divides back, rounding up so that no recorded
 * charge shrinks.
 */
const DELTA_COLUMNS = [
  ['grant_member_ledger', 'delta_spent'],
  ['grant_node_ledger', 'delta_spent'],
  ['grant_charge', 'delta'],
] as const;

export class Migration20250701000000_delta_femto extends Migration {
  override up(): void {
    for (const [table, column] of DELTA_COLUMNS) this.addSql(`update "${table}" set "${column}" = "${column}" * 1000`);
  }

  override down(): void {
    for (const [table, column] of DELTA_COLUMNS) this.addSql(`update "${table}" set "${column}" = ("${column}" + 999) / 1000`);
  }
}
