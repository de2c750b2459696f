/**
 * Writing {@link IngestObject}s into the object registry inside the import transaction, in batches:
 * new ids are created, newer versions replace older ones (with their edges and indicator values),
 * equal or older versions are skipped. Every created or updated object is remembered in the temporary
 * table `ing_touched`, from which incident rows are re-derived at the end.
 */
import { TLP_LEVELS, type TlpLevel } from '../../schema/contract/dataset.js';
import type { SqlParam } from '../db/sql.js';
import { indicatorHash } from '../db/indicators.js';
import { stixInvalid } from './errors.js';
import { stixKey } from './keys.js';
import type { IngestObject, SummaryBuilder } from './model.js';
import type { SqlRunner } from './sql-runner.js';

/** SQL expression ranking a TLP column (CLEAR 0 … RED 4). */
export function tlpRankSql(column: string): string {
  return `(case ${column} ${TLP_LEVELS.map((l, i) => `when '${l}' then ${i}`).join(' ')} end)`;
}

/** True when `candidate` should replace the stored `current` version. */
export function isNewer(candidate: string, current: string): boolean {
  if (candidate === current) return false;
  if (candidate.startsWith('h:') || current.startsWith('h:')) return true;
  return candidate > current;
}

const OBJECT_COLUMNS = [
  'id', 'stix_id', 'stix_key', 'type', 'version', 'source', 'tlp', 'revoked', 'name', 'entity_key', 'sector', 'country', 'date', 'severity', 'disruption', 'sighting_count', 'held', 'imported_at',
] as const;

export interface StoreOptions {
  /** Key of indicator hashes (the federation's indicator key, or the node secret). */
  indicatorKey: string | Buffer;
  /** ISO time stamped on written rows. */
  now: string;
}

export class GraphStore {
  private nextId = 1;
  /** True when the registry held no object before this import. */
  freshRegistry = false;

  constructor(
    private readonly db: SqlRunner,
    private readonly summary: SummaryBuilder,
    private readonly opts: StoreOptions,
  ) {}

  /** Creates the import's temporary tables and reads the next object id. */
  async begin(): Promise<void> {
    await this.db.tempTable('ing_touched', '"id" integer primary key');
    await this.db.tempTable(
      'ing_pending',
      '"object_id" integer not null, "idx" integer not null, "stix_id" varchar(255) not null, "ref" varchar(255) not null, "ref_key" bigint not null, "field" varchar(64) not null',
    );
    if (this.db.dialect === 'postgresql') {
      // One import at a time per database: ids are unique because each import looks them up first.
      await this.db.all(`select pg_advisory_xact_lock(hashtext('accord-node-ingest:' || current_schema()))`);
    }
    const m = await this.db.all<{ m: number | string | null }>('select max("id") as "m" from "stix_object"');
    this.freshRegistry = m[0]?.m === null || m[0]?.m === undefined;
    this.nextId = this.freshRegistry ? 1 : Number(m[0]!.m) + 1;
  }

  private row(id: number, o: IngestObject): SqlParam[] {
    return [
      id, o.stixId, stixKey(o.stixId), o.type, o.version, o.source, o.tlp, o.revoked, o.name ?? null, o.entityKey ?? null, o.sector ?? null, o.country ?? null,
      o.date ?? null, o.severity ?? null, o.disruption ?? null, o.sightingCount ?? null, null, this.opts.now,
    ];
  }

  /** Writes one batch (any size; objects in input order). Driver errors propagate. */
  async write(batch: readonly IngestObject[]): Promise<void> {
    if (batch.length === 0) return;
    const ids = new Set(batch.map((o) => o.stixId));
    const keys = [...new Set([...ids].map(stixKey))];
    const state = new Map<string, { id: number; version: string; fresh: boolean }>();
    for (const r of await this.db.allIn<{ id: number | string; stix_id: string; version: string }>('select "id", "stix_id", "version" from "stix_object" where "stix_key" in (:list)', keys)) {
      if (ids.has(r.stix_id)) state.set(r.stix_id, { id: Number(r.id), version: r.version, fresh: false });
    }
    const creates = new Map<string, { id: number; o: IngestObject }>();
    const updates = new Map<string, { id: number; o: IngestObject }>();
    for (const o of batch) {
      this.summary.s.objects++;
      const st = state.get(o.stixId);
      if (!st) {
        const id = this.nextId++;
        state.set(o.stixId, { id, version: o.version, fresh: true });
        creates.set(o.stixId, { id, o });
        this.summary.count(o.type, 'created');
      } else if (isNewer(o.version, st.version)) {
        (st.fresh ? creates : updates).set(o.stixId, { id: st.id, o });
        st.version = o.version;
        this.summary.count(o.type, 'updated');
      } else {
        this.summary.count(o.type, 'skipped');
      }
    }
    if (creates.size === 0 && updates.size === 0) return;

    if (updates.size > 0) {
      const upIds = [...updates.values()].map((u) => u.id);
      await this.db.runIn('delete from "stix_edge" where "owner_id" in (:list)', upIds);
      await this.db.runIn('delete from "stix_indicator_value" where "owner_id" in (:list)', upIds);
      const set = OBJECT_COLUMNS.slice(1).map((c) => `"${c}" = ?`).join(', ');
      for (const { id, o } of updates.values()) {
        const row = this.row(id, o);
        await this.db.run(`update "stix_object" set ${set} where "id" = ?`, [...row.slice(1), id]);
      }
    }
    await this.db.insert('stix_object', OBJECT_COLUMNS, [...creates.values()].map(({ id, o }) => this.row(id, o)));

    const edges: SqlParam[][] = [];
    const values: SqlParam[][] = [];
    const touched: SqlParam[][] = [];
    const pending: SqlParam[][] = [];
    const exploits = new Map<string, SqlParam[]>();
    const actors = new Map<string, SqlParam[]>();
    for (const { id, o } of [...creates.values(), ...updates.values()]) {
      touched.push([id]);
      for (const e of o.edges ?? []) edges.push([id, e.kind, e.source, e.target, stixKey(e.source), stixKey(e.target)]);
      for (const v of o.indicatorValues ?? []) values.push([id, v.type, v.value, indicatorHash(this.opts.indicatorKey, v.type, v.value)]);
      for (const p of o.pendingMarkings ?? []) pending.push([id, o.index, o.stixId, p.ref, stixKey(p.ref), p.field]);
      if (o.exploit) exploits.set(o.exploit.ref, [o.exploit.ref, o.exploit.cve, o.exploit.name, o.exploit.kind, o.exploit.disclosed]);
      if (o.actor) actors.set(o.actor.ref, [o.actor.ref, o.actor.name, o.actor.catalogued, o.actor.country]);
    }
    await this.db.insert('stix_edge', ['owner_id', 'kind', 'source_ref', 'target_ref', 'source_key', 'target_key'], edges);
    await this.db.insert('stix_indicator_value', ['owner_id', 'type', 'value', 'hash'], values);
    await this.db.insert('ing_touched', ['id'], touched);
    await this.db.insert('ing_pending', ['object_id', 'idx', 'stix_id', 'ref', 'ref_key', 'field'], pending);
    await this.db.insert(
      'exploit',
      ['ref', 'cve', 'name', 'kind', 'disclosed'],
      [...exploits.values()],
      'on conflict ("ref") do update set "disclosed" = coalesce("exploit"."disclosed", excluded."disclosed")',
    );
    await this.db.insert('actor', ['ref', 'name', 'catalogued', 'country'], [...actors.values()], 'on conflict ("ref") do nothing');
  }

  /**
   * Resolves marking refs that are not well-known TLP ids against the marking definitions of this import
   * and of the node. Throws AccordError('STIX_INVALID') naming the first object whose marking is defined
   * nowhere. Returns how many written objects carry no TLP level.
   */
  async finish(): Promise<{ unmarked: number }> {
    const missing = await this.db.all<{ idx: number | string; stix_id: string; ref: string; field: string }>(
      `select p."idx", p."stix_id", p."ref", p."field" from "ing_pending" p
       where not exists (select 1 from "stix_object" m where m."stix_key" = p."ref_key" and m."stix_id" = p."ref" and m."type" = 'marking-definition')
       order by p."idx" limit 1`,
    );
    const first = missing[0];
    if (first) {
      throw stixInvalid(
        Number(first.idx),
        first.stix_id,
        first.field,
        `names the marking definition "${first.ref}", which is not a TLP marking and is defined neither in the bundle nor on this node`,
      );
    }
    for (const level of TLP_LEVELS) {
      await this.db.run(
        `update "stix_object" set "tlp" = ? where "id" in (
           select p."object_id" from "ing_pending" p join "stix_object" m on m."stix_key" = p."ref_key" and m."stix_id" = p."ref" and m."type" = 'marking-definition'
           where m."entity_key" = ?)
         and ("tlp" is null or ${tlpRankSql('"tlp"')} < ?)`,
        [level, level, TLP_LEVELS.indexOf(level as TlpLevel)],
      );
    }
    const n = await this.db.all<{ n: number | string }>(
      `select count(*) as "n" from "stix_object" o join "ing_touched" t on t."id" = o."id" where o."tlp" is null and o."type" <> 'marking-definition'`,
    );
    if (this.db.dialect === 'postgresql') {
      await this.db.all(`select setval(pg_get_serial_sequence('"stix_object"', 'id'), coalesce((select max("id") from "stix_object"), 0) + 1, false)`);
    }
    return { unmarked: Number(n[0]?.n ?? 0) };
  }
}
