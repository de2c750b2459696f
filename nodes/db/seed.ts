/**
 * Loading a {@link NodeDataset} into the node's database: validated record by record, then written
 * with batched multi-row INSERTs in ONE transaction — all or nothing. A dataset is in the protocol's own
 * form, so its CVE ids, tool names and actor names must already be contract keys (`isContractKey`).
 */
import type { ActorRecord, ExploitRecord, IncidentRecord, NodeDataset, OrganisationRecord } from '../../schema/contract/dataset.js';
import { TLP_LEVELS } from '../../schema/contract/dataset.js';
import { AccordError } from '../../schema/errors.js';
import { isIsoDate, isoMonth, isoWeek } from '../../schema/contract/calendar.js';
import { isContractKey, MAX_KEY_LENGTH } from '../../schema/contract/keys.js';
import { claimIndicatorKey, knexAccess } from './indicator-key.js';
import { indicatorHash, normaliseIndicator } from './indicators.js';
import { dialectOf, knexOf, type Dialect, type NodeOrm } from './orm.js';
import { isSector as isReferenceSector } from '../../schema/reference/sectors.js';
import { m49RegionLookup, type RegionLookup } from './regions.js';
import type { Knex } from '@mikro-orm/better-sqlite';
import { exec, queryRows, type Executor, type SqlParam } from './sql.js';

export interface SeedOptions {
  /** The node secret: key of the indicator HMAC unless `indicatorKey` is given. */
  secret: string | Buffer;
  /** The federation's indicator key: when given, indicator values are hashed under it instead. */
  indicatorKey?: string | Buffer;
  /** Country → UN M49 region lookup (default: the public reference data). */
  regions?: RegionLookup;
  /**
   * Which sector ids are accepted (default: the public sector taxonomy of schema/reference). Sectors
   * are released as public-domain group keys, so a node stores only known ids.
   */
  isSector?: (id: string) => boolean;
  /** Upper bound on bound parameters per INSERT statement (default 30 000, below SQLite's 32 766). */
  maxParamsPerStatement?: number;
}

export interface SeedSummary {
  organisations: number;
  exploits: number;
  actors: number;
  incidents: number;
  incidentExploits: number;
  incidentActors: number;
  indicators: number;
  durationMs: number;
}

const EXPLOIT_KINDS = new Set(['zero-day', 'n-day', 'tool']);
const TLP_SET = new Set<string>(TLP_LEVELS);
const COUNTRY_RE = /^[A-Z]{2}$/;
const MAX_TEXT = 255;
const NOT_A_KEY = `is not a key the contribution protocol carries (at most ${MAX_KEY_LENGTH} characters, no control characters, single spaces only between words: see normaliseKey)`;

type RecordKind = 'organisation' | 'exploit' | 'actor' | 'incident' | 'indicator';

function invalid(record: RecordKind, id: unknown, field: string, problem: string): AccordError {
  const shownId = typeof id === 'string' ? id.slice(0, MAX_TEXT) : undefined;
  return new AccordError(
    'INVALID_PARAMETER',
    `Dataset ${record} ${shownId === undefined ? '(without id)' : `"${shownId}"`}: field "${field}" ${problem}. Fix the record and seed again; nothing was stored.`,
    { record, id: shownId ?? null, field },
  );
}

function text(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

/** Existing ref → id maps and next ids, read inside the seeding transaction. */
interface Existing {
  organisations: Map<string, number>;
  exploits: Map<string, number>;
  actors: Map<string, number>;
  incidentRefs: Set<string>;
  next: { organisation: number; exploit: number; actor: number; incident: number };
}

async function loadRefs(trx: Executor, dialect: Dialect, table: string): Promise<{ refs: Map<string, number>; next: number }> {
  const max = await queryRows<{ m: number | string | null }>(trx, dialect, `select max("id") as "m" from "${table}"`);
  const m = max[0]?.m;
  const next = m === null || m === undefined ? 1 : Number(m) + 1;
  const refs = new Map<string, number>();
  if (next > 1) {
    for (const r of await queryRows<{ id: number | string; ref: string }>(trx, dialect, `select "id", "ref" from "${table}"`)) refs.set(r.ref, Number(r.id));
  }
  return { refs, next };
}

async function loadExisting(trx: Executor, dialect: Dialect): Promise<Existing> {
  const [o, e, a, i] = [
    await loadRefs(trx, dialect, 'organisation'),
    await loadRefs(trx, dialect, 'exploit'),
    await loadRefs(trx, dialect, 'actor'),
    await loadRefs(trx, dialect, 'incident'),
  ];
  return {
    organisations: o.refs,
    exploits: e.refs,
    actors: a.refs,
    incidentRefs: new Set(i.refs.keys()),
    next: { organisation: o.next, exploit: e.next, actor: a.next, incident: i.next },
  };
}

interface Rows {
  organisation: SqlParam[][];
  exploit: SqlParam[][];
  actor: SqlParam[][];
  incident: SqlParam[][];
  incidentExploit: SqlParam[][];
  incidentActor: SqlParam[][];
  indicator: SqlParam[][];
}

/** Validates every record and turns it into insert rows; throws AccordError('INVALID_PARAMETER') at the first bad field. */
function buildRows(dataset: NodeDataset, existing: Existing, opts: SeedOptions): Rows {
  const regions = opts.regions ?? m49RegionLookup;
  const hashKey = opts.indicatorKey ?? opts.secret;
  const knownCountry = (c: unknown): c is string => typeof c === 'string' && COUNTRY_RE.test(c) && regions(c) !== undefined;
  const sectorOk = opts.isSector ?? isReferenceSector;
  const knownSector = (v: unknown): v is string => text(v) && sectorOk(v);
  for (const key of ['organisations', 'exploits', 'actors', 'incidents'] as const) {
    if (!Array.isArray(dataset?.[key])) {
      throw new AccordError('INVALID_PARAMETER', `The dataset has no "${key}" list. Nothing was stored.`, { field: key });
    }
  }
  const rows: Rows = { organisation: [], exploit: [], actor: [], incident: [], incidentExploit: [], incidentActor: [], indicator: [] };
  const orgIds = new Map(existing.organisations);
  const exploitIds = new Map(existing.exploits);
  const actorIds = new Map(existing.actors);
  const incidentRefs = new Set(existing.incidentRefs);
  const weeks = new Map<string, string>();
  const weekOf = (date: string): string => {
    let w = weeks.get(date);
    if (w === undefined) weeks.set(date, (w = isoWeek(date)));
    return w;
  };
  let { organisation: nextOrg, exploit: nextExploit, actor: nextActor, incident: nextIncident } = existing.next;

  for (const o of dataset.organisations as OrganisationRecord[]) {
    if (!text(o?.id)) throw invalid('organisation', o?.id, 'id', 'must be a non-empty string of at most 255 characters');
    if (orgIds.has(o.id)) throw invalid('organisation', o.id, 'id', 'is used twice');
    if (!knownSector(o.sector)) throw invalid('organisation', o.id, 'sector', 'is not a sector id of the sector taxonomy');
    if (!knownCountry(o.country)) throw invalid('organisation', o.id, 'country', 'is not a known ISO 3166-1 alpha-2 code');
    const id = nextOrg++;
    orgIds.set(o.id, id);
    rows.organisation.push([id, o.id, o.sector, o.country]);
  }

  for (const e of dataset.exploits as ExploitRecord[]) {
    if (!text(e?.id)) throw invalid('exploit', e?.id, 'id', 'must be a non-empty string of at most 255 characters');
    if (exploitIds.has(e.id)) throw invalid('exploit', e.id, 'id', 'is used twice');
    if (e.cve !== undefined && e.cve !== null && !isContractKey('EXPLOIT', e.cve)) {
      throw invalid('exploit', e.id, 'cve', 'is not a CVE id (CVE-YYYY-NNNN, 4 to 7 digits, upper case)');
    }
    if (!text(e.name)) throw invalid('exploit', e.id, 'name', 'must be a non-empty string of at most 255 characters');
    if (e.kind === 'tool' && !isContractKey('TOOL', e.name)) throw invalid('exploit', e.id, 'name', NOT_A_KEY);
    if (!EXPLOIT_KINDS.has(e.kind)) throw invalid('exploit', e.id, 'kind', 'must be zero-day, n-day or tool');
    if (e.disclosed !== undefined && e.disclosed !== null && !isIsoDate(e.disclosed)) throw invalid('exploit', e.id, 'disclosed', 'is not a YYYY-MM-DD date');
    const id = nextExploit++;
    exploitIds.set(e.id, id);
    rows.exploit.push([id, e.id, e.cve ?? null, e.name, e.kind, e.disclosed ?? null]);
  }

  for (const a of dataset.actors as ActorRecord[]) {
    if (!text(a?.id)) throw invalid('actor', a?.id, 'id', 'must be a non-empty string of at most 255 characters');
    if (actorIds.has(a.id)) throw invalid('actor', a.id, 'id', 'is used twice');
    if (!text(a.name)) throw invalid('actor', a.id, 'name', 'must be a non-empty string of at most 255 characters');
    if (!isContractKey('ACTOR', a.name)) throw invalid('actor', a.id, 'name', NOT_A_KEY);
    if (typeof a.catalogued !== 'boolean') throw invalid('actor', a.id, 'catalogued', 'must be a boolean');
    if (a.country !== undefined && a.country !== null && !knownCountry(a.country)) throw invalid('actor', a.id, 'country', 'is not a known ISO 3166-1 alpha-2 code');
    const id = nextActor++;
    actorIds.set(a.id, id);
    rows.actor.push([id, a.id, a.name, a.catalogued, a.country ?? null]);
  }

  for (const r of dataset.incidents as IncidentRecord[]) {
    if (!text(r?.id)) throw invalid('incident', r?.id, 'id', 'must be a non-empty string of at most 255 characters');
    if (incidentRefs.has(r.id)) throw invalid('incident', r.id, 'id', 'is used twice');
    if (!isIsoDate(r.date)) throw invalid('incident', r.id, 'date', 'is not a YYYY-MM-DD date');
    if (!knownCountry(r.country)) throw invalid('incident', r.id, 'country', 'is not a known ISO 3166-1 alpha-2 code');
    if (!knownSector(r.sector)) throw invalid('incident', r.id, 'sector', 'is not a sector id of the sector taxonomy');
    if (!Number.isInteger(r.severity) || r.severity < 1 || r.severity > 5) throw invalid('incident', r.id, 'severity', 'must be an integer from 1 to 5');
    if (typeof r.disruption !== 'boolean') throw invalid('incident', r.id, 'disruption', 'must be a boolean');
    if (!TLP_SET.has(r.tlp)) throw invalid('incident', r.id, 'tlp', 'must be one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED');
    const orgId = typeof r.organisation === 'string' ? orgIds.get(r.organisation) : undefined;
    if (orgId === undefined) throw invalid('incident', r.id, 'organisation', 'names no organisation of the dataset');
    if (!Array.isArray(r.exploits)) throw invalid('incident', r.id, 'exploits', 'must be a list of exploit ids');
    if (!Array.isArray(r.actors)) throw invalid('incident', r.id, 'actors', 'must be a list of actor ids');
    if (!Array.isArray(r.indicators)) throw invalid('incident', r.id, 'indicators', 'must be a list');
    const id = nextIncident++;
    incidentRefs.add(r.id);
    const place = regions(r.country)!;
    rows.incident.push([id, r.id, r.date, weekOf(r.date), isoMonth(r.date), r.country, place.region, place.subregion, r.sector, r.severity, r.disruption, r.tlp, orgId]);

    const seenExploits = new Set<number>();
    for (const ref of r.exploits) {
      const exploitId = typeof ref === 'string' ? exploitIds.get(ref) : undefined;
      if (exploitId === undefined) throw invalid('incident', r.id, 'exploits', 'names an exploit that is not in the dataset');
      if (seenExploits.has(exploitId)) throw invalid('incident', r.id, 'exploits', 'lists the same exploit twice');
      seenExploits.add(exploitId);
      rows.incidentExploit.push([id, exploitId]);
    }
    const seenActors = new Set<number>();
    for (const ref of r.actors) {
      const actorId = typeof ref === 'string' ? actorIds.get(ref) : undefined;
      if (actorId === undefined) throw invalid('incident', r.id, 'actors', 'names an actor that is not in the dataset');
      if (seenActors.has(actorId)) throw invalid('incident', r.id, 'actors', 'lists the same actor twice');
      seenActors.add(actorId);
      rows.incidentActor.push([id, actorId]);
    }
    for (const ind of r.indicators) {
      if (!text(ind?.type, 64)) throw invalid('indicator', r.id, 'indicators.type', 'must be a non-empty string of at most 64 characters');
      const value = typeof ind.value === 'string' ? normaliseIndicator(ind.type, ind.value) : undefined;
      if (value === undefined) throw invalid('indicator', r.id, 'indicators.value', 'is empty or malformed for its type');
      rows.indicator.push([ind.type, value, indicatorHash(hashKey, ind.type, value), id]);
    }
  }
  return rows;
}

interface SqliteStatement {
  run(...params: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}

/**
 * Multi-row INSERTs of `rows` in chunks of at most `maxParams` bound parameters. On SQLite the
 * statement for a full chunk is prepared once and reused on the transaction's own connection.
 */
async function insertRows(trx: Executor, dialect: Dialect, table: string, columns: readonly string[], rows: SqlParam[][], maxParams: number): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.max(1, Math.floor(maxParams / columns.length));
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const sqlFor = (n: number): string => head + new Array<string>(n).fill(tuple).join(', ');
  if (dialect === 'sqlite') {
    const conn = (await (trx as Knex.Transaction).client.acquireConnection()) as SqliteDatabase;
    const cache = new Map<number, SqliteStatement>();
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      let stmt = cache.get(chunk.length);
      if (!stmt) cache.set(chunk.length, (stmt = conn.prepare(sqlFor(chunk.length))));
      stmt.run(...chunk.flat().map((v) => (typeof v === 'boolean' ? Number(v) : v)));
    }
    return;
  }
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    await exec(trx, sqlFor(chunk.length), chunk.flat());
  }
}

/**
 * Inserts `dataset` in one transaction and returns how many rows of each kind were written.
 * Records may refer to organisations, exploits and actors of the dataset or already stored.
 * Throws AccordError('INVALID_PARAMETER') naming the record id and field of the first invalid record
 * (unknown country or sector, severity outside 1–5, unknown organisation/exploit/actor ref, bad date,
 * duplicate id, …); nothing is stored then. Throws AccordError('CONFIG_INVALID') when the node already
 * stores indicators hashed under another key than this seed's (see `indicator-key.ts`). Driver errors
 * also roll the whole dataset back.
 */
export async function seedDataset(orm: NodeOrm, dataset: NodeDataset, opts: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const dialect = dialectOf(orm);
  const maxParams = opts.maxParamsPerStatement ?? 30_000;
  const rows = await knexOf(orm).transaction(async (trx) => {
    const existing = await loadExisting(trx, dialect);
    const built = buildRows(dataset, existing, opts);
    await claimIndicatorKey(knexAccess(trx, dialect), opts.indicatorKey ?? opts.secret, opts.secret);
    await insertRows(trx, dialect, 'organisation', ['id', 'ref', 'sector', 'country'], built.organisation, maxParams);
    await insertRows(trx, dialect, 'exploit', ['id', 'ref', 'cve', 'name', 'kind', 'disclosed'], built.exploit, maxParams);
    await insertRows(trx, dialect, 'actor', ['id', 'ref', 'name', 'catalogued', 'country'], built.actor, maxParams);
    await insertRows(
      trx,
      dialect,
      'incident',
      ['id', 'ref', 'date', 'week', 'month', 'country', 'region', 'subregion', 'sector', 'severity', 'disruption', 'tlp', 'organisation_id'],
      built.incident,
      maxParams,
    );
    await insertRows(trx, dialect, 'incident_exploit', ['incident_id', 'exploit_id'], built.incidentExploit, maxParams);
    await insertRows(trx, dialect, 'incident_actor', ['incident_id', 'actor_id'], built.incidentActor, maxParams);
    await insertRows(trx, dialect, 'indicator', ['type', 'value', 'hash', 'incident_id'], built.indicator, maxParams);
    if (dialect === 'postgresql') {
      for (const table of ['organisation', 'exploit', 'actor', 'incident']) {
        await exec(trx, `select setval(pg_get_serial_sequence('"${table}"', 'id'), coalesce((select max("id") from "${table}"), 0) + 1, false)`);
      }
    }
    return built;
  });
  if (dialect === 'sqlite') await exec(knexOf(orm), 'analyze');
  else await exec(knexOf(orm), 'analyze "incident", "incident_exploit", "incident_actor", "organisation", "exploit", "actor"');
  return {
    organisations: rows.organisation.length,
    exploits: rows.exploit.length,
    actors: rows.actor.length,
    incidents: rows.incident.length,
    incidentExploits: rows.incidentExploit.length,
    incidentActors: rows.incidentActor.length,
    indicators: rows.indicator.length,
    durationMs: performance.now() - started,
  };
}
