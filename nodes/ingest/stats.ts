/** What the node holds from imports, for the operator (local only; never served to the federation). */
import { TLP_LEVELS, type TlpLevel } from '../../schema/contract/dataset.js';
import { dialectOf, knexOf, type NodeOrm } from '../db/orm.js';
import { queryRows } from '../db/sql.js';

export interface IngestStats {
  /** Registry objects by STIX type. */
  objects: Record<string, number>;
  /** Registry objects by their own TLP level (`UNMARKED` for none). */
  objectsByTlp: Record<TlpLevel | 'UNMARKED', number>;
  /** Incidents and sightings that gave no incident row, by reason. */
  held: Record<string, number>;
  /** Indicator values held by indicator objects. */
  indicatorValues: number;
  /** Incident rows built from imported objects. */
  derivedIncidents: number;
  /** Recent imports, newest first. */
  imports: { startedAt: string; finishedAt: string; format: string; file: string; outcome: string; objects: number; created: number; updated: number; skipped: number }[];
}

/** Counts of imported objects, held incidents and the import history (most recent `limit` runs). */
export async function ingestStats(orm: NodeOrm, limit = 10): Promise<IngestStats> {
  const knex = knexOf(orm);
  const dialect = dialectOf(orm);
  const objects: Record<string, number> = {};
  for (const r of await queryRows<{ type: string; n: unknown }>(knex, dialect, 'select "type", count(*) as "n" from "stix_object" group by "type" order by "type"')) {
    objects[r.type] = Number(r.n);
  }
  const objectsByTlp = Object.fromEntries([...TLP_LEVELS, 'UNMARKED'].map((t) => [t, 0])) as Record<TlpLevel | 'UNMARKED', number>;
  for (const r of await queryRows<{ tlp: string | null; n: unknown }>(knex, dialect, 'select "tlp", count(*) as "n" from "stix_object" group by "tlp"')) {
    objectsByTlp[(r.tlp ?? 'UNMARKED') as TlpLevel | 'UNMARKED'] = Number(r.n);
  }
  const held: Record<string, number> = {};
  for (const r of await queryRows<{ held: string; n: unknown }>(knex, dialect, 'select "held", count(*) as "n" from "stix_object" where "held" is not null group by "held" order by "held"')) {
    held[r.held] = Number(r.n);
  }
  const one = async (sql: string): Promise<number> => Number((await queryRows<{ n: unknown }>(knex, dialect, sql))[0]?.n ?? 0);
  const imports = (
    await queryRows<Record<string, unknown>>(
      knex,
      dialect,
      'select "started_at", "finished_at", "format", "file", "outcome", "objects", "created", "updated", "skipped" from "ingest_run" order by "id" desc limit ?',
      [limit],
    )
  ).map((r) => ({
    startedAt: String(r.started_at),
    finishedAt: String(r.finished_at),
    format: String(r.format),
    file: String(r.file),
    outcome: String(r.outcome),
    objects: Number(r.objects),
    created: Number(r.created),
    updated: Number(r.updated),
    skipped: Number(r.skipped),
  }));
  return {
    objects,
    objectsByTlp,
    held,
    indicatorValues: await one('select count(*) as "n" from "stix_indicator_value"'),
    derivedIncidents: await one('select count(*) as "n" from "ingest_incident"'),
    imports,
  };
}
