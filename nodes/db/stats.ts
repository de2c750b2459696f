/** Row counts for the node operator (local only; never served to the federation). */
import { TLP_LEVELS, type TlpLevel } from '../../schema/contract/dataset.js';
import { dialectOf, knexOf, type NodeOrm } from './orm.js';
import { knexAccess, readStoredIndicatorKey } from './indicator-key.js';
import { queryRows } from './sql.js';

export interface NodeStats {
  organisations: number;
  exploits: number;
  actors: number;
  incidents: { total: number; byTlp: Record<TlpLevel, number> };
  indicators: { total: number; byTlp: Record<TlpLevel, number> };
  contributions: number;
  /** Id of the key the stored indicator hashes were made with, as recorded at import (null: none recorded). */
  indicatorKeyId: string | null;
}

function emptyByTlp(): Record<TlpLevel, number> {
  return Object.fromEntries(TLP_LEVELS.map((t) => [t, 0])) as Record<TlpLevel, number>;
}

/** Counts of stored records; incidents and indicators split by the incident's TLP level. */
export async function nodeStats(orm: NodeOrm): Promise<NodeStats> {
  const knex = knexOf(orm);
  const dialect = dialectOf(orm);
  const count = async (table: string): Promise<number> => Number((await queryRows<{ n: unknown }>(knex, dialect, `select count(*) as "n" from "${table}"`))[0]?.n ?? 0);
  const byTlp = async (sql: string): Promise<{ total: number; byTlp: Record<TlpLevel, number> }> => {
    const out = emptyByTlp();
    let total = 0;
    for (const r of await queryRows<{ tlp: TlpLevel; n: unknown }>(knex, dialect, sql)) {
      out[r.tlp] = Number(r.n);
      total += Number(r.n);
    }
    return { total, byTlp: out };
  };
  return {
    organisations: await count('organisation'),
    exploits: await count('exploit'),
    actors: await count('actor'),
    incidents: await byTlp('select "tlp", count(*) as "n" from "incident" group by "tlp"'),
    indicators: await byTlp('select i."tlp" as "tlp", count(*) as "n" from "indicator" d join "incident" i on i."id" = d."incident_id" group by i."tlp"'),
    contributions: await count('contribution_log'),
    indicatorKeyId: (await readStoredIndicatorKey(knexAccess(knex, dialect))).keyId,
  };
}
