import { Migration } from '@mikro-orm/migrations';
import { normaliseKey, type NodeKeyDimension } from '../../../schema/contract/keys.js';

/**
 * Stored node-data keys in contract form (`normaliseKey`, schema/contract/keys.ts), so that a node
 * never emits a key the gateway refuses, whatever was imported before the importers normalised:
 * tool names (`exploit.name` of kind tool), CVE ids (`exploit.cve`) and actor names (`actor.name`)
 * are rewritten to their contract form; a row whose key has no contract form (a name of nothing but
 * white space and control characters, a CVE id of eight or more digits) is deleted with its incident
 * links — what the importers now do with such a value. Rows are never merged: two rows that reach the
 * same name stay two rows, and the contribution query keeps one row per (incident, key) before any
 * bounding. `down` changes nothing: the original text is not kept.
 */
const KEY_COLUMNS: ReadonlyArray<{ dimension: NodeKeyDimension; table: 'exploit' | 'actor'; column: 'name' | 'cve'; where: string; link: string }> = [
  { dimension: 'TOOL', table: 'exploit', column: 'name', where: `"kind" = 'tool'`, link: 'delete from "incident_exploit" where "exploit_id" = ?' },
  { dimension: 'EXPLOIT', table: 'exploit', column: 'cve', where: '"cve" is not null', link: 'delete from "incident_exploit" where "exploit_id" = ?' },
  { dimension: 'ACTOR', table: 'actor', column: 'name', where: '1 = 1', link: 'delete from "incident_actor" where "actor_id" = ?' },
];

export class Migration20250801000000_contract_keys extends Migration {
  override async up(): Promise<void> {
    for (const { dimension, table, column, where, link } of KEY_COLUMNS) {
      const rows = (await this.execute(`select "id", "${column}" as "v" from "${table}" where ${where}`)) as Array<{ id: number | string; v: string }>;
      for (const { id, v } of rows) {
        const key = normaliseKey(dimension, v);
        if (key === v) continue;
        if (key === undefined) {
          await this.execute(link, [id]);
          await this.execute(`delete from "${table}" where "id" = ?`, [id]);
        } else {
          await this.execute(`update "${table}" set "${column}" = ? where "id" = ?`, [key, id]);
        }
      }
    }
  }

  override down(): void {}
}
