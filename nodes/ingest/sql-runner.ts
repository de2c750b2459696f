/**
 * Raw SQL inside one import transaction, the same statements on SQLite and PostgreSQL, on the
 * transaction's own connection: better-sqlite3 with cached prepared statements (synchronous, fast), or
 * the transaction's `pg` client (bulk inserts as `unnest` of one array per column, lists as `= any($n)`).
 * Every value is a bound parameter; statements use `?` placeholders and never contain a literal `?`.
 */
import type { Knex } from '@mikro-orm/better-sqlite';
import type { Dialect } from '../db/orm.js';
import type { SqlParam } from '../db/sql.js';

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}
interface PgClient {
  query(config: { text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Largest number of bound parameters in one SQLite statement (below its 32 766). */
export const MAX_PARAMS = 30_000;

/** PostgreSQL element types of the columns bulk inserts write (for `unnest`). */
const PG_COLUMNS: Record<string, string> = {
  stix_object:
    'id:int stix_id:text stix_key:bigint type:text version:text source:text tlp:text revoked:boolean name:text entity_key:text sector:text country:text date:text severity:int disruption:boolean sighting_count:int held:text imported_at:text',
  stix_edge: 'owner_id:int kind:text source_ref:text target_ref:text source_key:bigint target_key:bigint',
  stix_indicator_value: 'owner_id:int type:text value:text hash:text',
  ing_touched: 'id:int',
  ing_pending: 'object_id:int idx:int stix_id:text ref:text ref_key:bigint field:text',
  exploit: 'ref:text cve:text name:text kind:text disclosed:text',
  actor: 'ref:text name:text catalogued:boolean country:text',
  organisation: 'ref:text sector:text country:text',
  incident: 'id:int ref:text date:text week:text month:text country:text region:text subregion:text sector:text severity:int disruption:boolean tlp:text organisation_id:int',
  ingest_incident: 'incident_id:int object_id:int',
  incident_exploit: 'incident_id:int exploit_id:int',
  incident_actor: 'incident_id:int actor_id:int',
  indicator: 'type:text value:text hash:text incident_id:int',
};
const PG_TYPES = new Map<string, string>();
for (const [table, spec] of Object.entries(PG_COLUMNS)) {
  for (const c of spec.split(' ')) {
    const [name, type] = c.split(':') as [string, string];
    PG_TYPES.set(`${table}.${name}`, type);
  }
}

export class SqlRunner {
  private readonly cache = new Map<string, SqliteStatement>();
  private readonly pgText = new Map<string, string>();

  private constructor(
    readonly dialect: Dialect,
    private readonly db: SqliteDatabase | null,
    private readonly pg: PgClient | null,
  ) {}

  /** A runner on the connection of an open knex transaction. */
  static async over(trx: Knex.Transaction, dialect: Dialect): Promise<SqlRunner> {
    const conn = (await trx.client.acquireConnection()) as unknown;
    return dialect === 'sqlite' ? new SqlRunner(dialect, conn as SqliteDatabase, null) : new SqlRunner(dialect, null, conn as PgClient);
  }

  private stmt(sql: string): SqliteStatement {
    let s = this.cache.get(sql);
    if (!s) {
      if (this.cache.size > 500) this.cache.clear();
      s = this.db!.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** `?` placeholders → `$1…$n`. */
  private numbered(sql: string): string {
    let t = this.pgText.get(sql);
    if (t === undefined) {
      let n = 0;
      t = sql.replace(/\?/g, () => `$${++n}`);
      if (this.pgText.size > 500) this.pgText.clear();
      this.pgText.set(sql, t);
    }
    return t;
  }

  private static sqliteParams(params: readonly SqlParam[]): unknown[] {
    return params.map((v) => (typeof v === 'boolean' ? Number(v) : v));
  }

  /** Runs a statement for its effect. */
  async run(sql: string, params: readonly unknown[] = []): Promise<void> {
    if (this.db) this.stmt(sql).run(...SqlRunner.sqliteParams(params as SqlParam[]));
    else await this.pg!.query({ text: this.numbered(sql), values: [...params] });
  }

  /** Runs a query and returns its rows. */
  async all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.db) return this.stmt(sql).all(...SqlRunner.sqliteParams(params as SqlParam[])) as T[];
    return (await this.pg!.query({ text: this.numbered(sql), values: [...params] })).rows as T[];
  }

  /**
   * INSERT of `rows`; `suffix` is appended (e.g. `on conflict do nothing`). On SQLite in chunks of a fixed
   * size plus a one-row statement for the rest, so a handful of prepared statements serve every batch; on
   * PostgreSQL as one `insert … select * from unnest(…)` with an array per column.
   */
  async insert(table: string, columns: readonly string[], rows: readonly SqlParam[][], suffix = ''): Promise<void> {
    if (rows.length === 0) return;
    const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')})`;
    if (this.db) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      const sqlFor = (n: number) => `${head} values ${new Array<string>(n).fill(tuple).join(', ')}${suffix ? ` ${suffix}` : ''}`;
      const per = Math.max(1, Math.min(128, Math.floor(MAX_PARAMS / columns.length)));
      const full = rows.length - (rows.length % per);
      if (full > 0) {
        const many = this.stmt(sqlFor(per));
        for (let start = 0; start < full; start += per) {
          const params: unknown[] = [];
          for (let r = start; r < start + per; r++) for (const v of rows[r]!) params.push(typeof v === 'boolean' ? Number(v) : v);
          many.run(...params);
        }
      }
      if (full < rows.length) {
        const one = this.stmt(sqlFor(1));
        for (let r = full; r < rows.length; r++) one.run(...SqlRunner.sqliteParams(rows[r]!));
      }
      return;
    }
    const types = columns.map((c) => {
      const t = PG_TYPES.get(`${table}.${c}`);
      if (!t) throw new Error(`no PostgreSQL type known for ${table}.${c}`);
      return t;
    });
    const per = 50_000;
    for (let start = 0; start < rows.length; start += per) {
      const chunk = rows.slice(start, start + per);
      const arrays = columns.map((_, i) => chunk.map((r) => r[i] ?? null));
      const text = `${head} select * from unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})${suffix ? ` ${suffix}` : ''}`;
      await this.pg!.query({ text, values: arrays });
    }
  }

  /**
   * The placeholder text and parameters for an `in (:list)` over `values`: on SQLite chunks padded with
   * NULLs (which match nothing) to a power of two, so few distinct statements are prepared; on
   * PostgreSQL one `= any(array)`.
   */
  private *inChunks(sql: string, values: readonly SqlParam[]): Generator<{ sql: string; params: SqlParam[] | [SqlParam[]] }> {
    if (!this.db) {
      const numeric = values.every((v) => typeof v === 'number');
      yield { sql: sql.replace(' in (:list)', ` = any(?::${numeric ? 'bigint' : 'text'}[])`), params: [[...values]] as [SqlParam[]] };
      return;
    }
    const per = 4096;
    for (let start = 0; start < values.length; start += per) {
      const chunk = values.slice(start, start + per);
      let size = 8;
      while (size < chunk.length) size *= 2;
      while (chunk.length < size) chunk.push(null);
      yield { sql: sql.replace('(:list)', `(${new Array<string>(size).fill('?').join(', ')})`), params: chunk };
    }
  }

  /**
   * Runs `sql` (which holds ` in (:list)` once) over `values`; `before`/`after` are bound around the
   * list. Returns the rows of every chunk.
   */
  async allIn<T = Record<string, unknown>>(sql: string, values: readonly SqlParam[], before: readonly SqlParam[] = [], after: readonly SqlParam[] = []): Promise<T[]> {
    if (values.length === 0) return [];
    const out: T[] = [];
    for (const c of this.inChunks(sql, values)) for (const r of await this.all<T>(c.sql, [...before, ...c.params, ...after])) out.push(r);
    return out;
  }

  /** Like {@link allIn}, for statements without rows. */
  async runIn(sql: string, values: readonly SqlParam[], before: readonly SqlParam[] = [], after: readonly SqlParam[] = []): Promise<void> {
    if (values.length === 0) return;
    for (const c of this.inChunks(sql, values)) await this.run(c.sql, [...before, ...c.params, ...after]);
  }

  /** `create temporary table`, dropped at commit on PostgreSQL and replaced if it exists on SQLite. */
  async tempTable(name: string, columns: string): Promise<void> {
    if (this.dialect === 'sqlite') {
      await this.run(`drop table if exists temp."${name}"`);
      await this.run(`create temp table "${name}" (${columns})`);
    } else {
      await this.run(`create temporary table "${name}" (${columns}) on commit drop`);
    }
  }

  /** Drops a temporary table (SQLite keeps them for the connection's lifetime). */
  async dropTemp(name: string): Promise<void> {
    if (this.dialect === 'sqlite') await this.run(`drop table if exists temp."${name}"`);
  }
}
