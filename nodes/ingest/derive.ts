/**
 * Building incident rows from the object registry (docs/ingest.md, "From objects to incidents").
 *
 * After the objects of an import are written, every incident and sighting that the import could have
 * changed — written itself, or within two references of something written — is re-derived: its old
 * rows are deleted (links and indicator rows go with them) and rebuilt from what the registry now holds.
 * One incident row per affected organisation:
 *
 * - organisation: the identities it targets / impacts / was sighted at; else its creator (the reporting
 *   entity); the row's organisation is the identity's keyed pseudonym;
 * - date: `first_seen`, else `created` (MISP: event date; CSV: `date`);
 * - country: its own, else a location it targets or was sighted at, else the organisation's (identity
 *   `located-at` location);
 * - sector: its own, else the organisation's;
 * - links: vulnerabilities, malware and tools it uses / targets / exploits / is a sighting of; threat
 *   actors and intrusion sets it is attributed to or a sighting of, also through an attributed campaign;
 *   values of indicators that indicate it or that it is a sighting of;
 * - TLP: the most restrictive of its own marking (the import's `unmarkedTlp` when it has none) and every
 *   explicit marking of the objects and relationships the row was built from.
 *
 * Incidents that cannot be placed (no organisation, country or sector) are kept in the registry with the
 * reason in `held` and reported, never silently dropped.
 */
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { isoMonth, isoWeek } from '../../schema/contract/calendar.js';
import type { RegionLookup } from '../db/regions.js';
import type { SqlParam } from '../db/sql.js';
import type { HeldReason, SummaryBuilder } from './model.js';
import { stixKey } from './keys.js';
import type { SqlRunner } from './sql-runner.js';
import { stricter } from './tlp.js';

export interface DeriveOptions {
  /** Level of an incident whose own object carries no TLP marking. */
  unmarkedTlp: TlpLevel;
  /** Severity (1–5) of an incident that states none. */
  defaultSeverity: number;
  regions: RegionLookup;
  /** Incidents and sightings derived per round trip (default 1000). */
  batchSize?: number;
  /** True when the registry was empty before this import (every object is new). */
  freshRegistry?: boolean;
}

interface ObjRow {
  id: number;
  stix_id: string;
  type: string;
  tlp: TlpLevel | null;
  revoked: boolean;
  entity_key: string | null;
  sector: string | null;
  country: string | null;
  date: string | null;
  severity: number | null;
  disruption: boolean | null;
  sighting_count: number | null;
}

interface EdgeRow {
  id: number;
  kind: string;
  source_ref: string;
  target_ref: string;
  owner_tlp: TlpLevel | null;
  owner_revoked: boolean;
}

const VICTIM_EDGES = new Set(['targets', 'impacts', 'where-sighted']);
const LOCATION_EDGES = new Set(['targets', 'impacts', 'where-sighted', 'located-at']);
const EXPLOIT_EDGES = new Set(['uses', 'targets', 'exploits', 'sighting-of']);
const EXPLOIT_TYPES = new Set(['vulnerability', 'malware', 'tool']);
const ACTOR_EDGES = new Set(['attributed-to', 'sighting-of']);
const ACTOR_TYPES = new Set(['threat-actor', 'intrusion-set']);

/** Join condition of object alias `o` and the `end` ref of edge alias `e` (indexed key, then the id itself). */
function refJoin(o: string, e: string, end: 'source' | 'target'): string {
  return `${o}."stix_key" = ${e}."${end}_key" and ${o}."stix_id" = ${e}."${end}_ref"`;
}

const OBJ_FIELDS = ['id', 'stix_id', 'type', 'tlp', 'revoked', 'entity_key', 'sector', 'country', 'date', 'severity', 'disruption', 'sighting_count'] as const;

/** The columns a linked object is read with (what is needed of identities, locations, exploits, actors, indicators). */
const LINKED_FIELDS = ['id', 'stix_id', 'type', 'tlp', 'revoked', 'entity_key', 'sector', 'country'] as const;

/** The object columns of table alias `alias`, named `<prefix><column>` (all of them, or those of linked objects). */
function objColumns(alias: string, prefix = '', fields: readonly string[] = OBJ_FIELDS): string {
  return fields.map((c) => `${alias}."${c}" as "${prefix}${c}"`).join(', ');
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function bool(v: unknown): boolean | null {
  return v === null || v === undefined ? null : v === true || v === 1;
}

/** An object row from plain columns (`p` = '') or from columns prefixed `t_`. */
function toObj(r: Record<string, unknown>, p: '' | 't_' = ''): ObjRow {
  return p === ''
    ? {
        id: Number(r.id),
        stix_id: String(r.stix_id),
        type: String(r.type),
        tlp: (r.tlp as TlpLevel | null) ?? null,
        revoked: r.revoked === true || r.revoked === 1,
        entity_key: (r.entity_key as string | null) ?? null,
        sector: (r.sector as string | null) ?? null,
        country: (r.country as string | null) ?? null,
        date: (r.date as string | null) ?? null,
        severity: num(r.severity),
        disruption: bool(r.disruption),
        sighting_count: num(r.sighting_count),
      }
    : {
        id: Number(r.t_id),
        stix_id: String(r.t_stix_id),
        type: String(r.t_type),
        tlp: (r.t_tlp as TlpLevel | null) ?? null,
        revoked: r.t_revoked === true || r.t_revoked === 1,
        entity_key: (r.t_entity_key as string | null) ?? null,
        sector: (r.t_sector as string | null) ?? null,
        country: (r.t_country as string | null) ?? null,
        date: (r.t_date as string | null) ?? null,
        severity: num(r.t_severity),
        disruption: bool(r.t_disruption),
        sighting_count: num(r.t_sighting_count),
      };
}

function toEdge(r: Record<string, unknown>): EdgeRow {
  return {
    id: Number(r.id),
    kind: String(r.kind),
    source_ref: String(r.source_ref),
    target_ref: String(r.target_ref),
    owner_tlp: (r.owner_tlp as TlpLevel | null) ?? null,
    owner_revoked: r.owner_revoked === true || r.owner_revoked === 1,
  };
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(x);
  }
  return m;
}

/**
 * Marks the incidents and sightings whose rows the touched (created or updated) objects can change, in
 * the temporary table `ing_affected`:
 * - touched incidents and sightings;
 * - incidents and sightings at either end of a touched relationship or embedded reference, or linked
 *   by any edge to a touched object (one hop: a victim, location, exploit, actor or indicator changed);
 * - incidents and sightings linked to an identity or campaign whose `located-at` / `attributed-to`
 *   edge is touched or points at a touched object (two hops: an organisation's place, a campaign's actor).
 * When the registry held nothing before this import, every object is new and the affected incidents are
 * exactly the touched ones.
 */
async function collectAffected(db: SqlRunner, freshRegistry: boolean): Promise<void> {
  await db.tempTable('ing_affected', '"id" integer primary key');
  await db.tempTable('ing_hop', '"id" integer primary key');
  const ins = (table: string, select: string) => db.run(`insert into "${table}" ("id") ${select} on conflict do nothing`);
  const INCIDENTS = `('incident', 'sighting')`;
  await ins('ing_affected', `select t."id" from "ing_touched" t join "stix_object" o on o."id" = t."id" where o."type" in ${INCIDENTS}`);
  if (freshRegistry) return;
  for (const end of ['source', 'target'] as const) {
    await ins('ing_affected', `select o."id" from "ing_touched" t join "stix_edge" e on e."owner_id" = t."id" join "stix_object" o on ${refJoin('o', 'e', end)} where o."type" in ${INCIDENTS}`);
  }
  for (const [from, to] of [['target', 'source'], ['source', 'target']] as const) {
    await ins(
      'ing_affected',
      `select o."id" from "ing_touched" t join "stix_object" x on x."id" = t."id" join "stix_edge" e on ${refJoin('x', 'e', from)}
       join "stix_object" o on ${refJoin('o', 'e', to)} where o."type" in ${INCIDENTS}`,
    );
  }
  const HOP_KINDS = `('located-at', 'attributed-to')`;
  const HOP_TYPES = `('identity', 'campaign')`;
  await ins(
    'ing_hop',
    `select x."id" from "ing_touched" t join "stix_edge" e on e."owner_id" = t."id" and e."kind" in ${HOP_KINDS}
     join "stix_object" x on x."stix_key" = e."source_key" and x."stix_id" = e."source_ref" where x."type" in ${HOP_TYPES}`,
  );
  await ins(
    'ing_hop',
    `select x."id" from "ing_touched" t join "stix_object" y on y."id" = t."id" join "stix_edge" e on e."target_key" = y."stix_key" and e."target_ref" = y."stix_id" and e."kind" in ${HOP_KINDS}
     join "stix_object" x on x."stix_key" = e."source_key" and x."stix_id" = e."source_ref" where x."type" in ${HOP_TYPES}`,
  );
  await ins(
    'ing_affected',
    `select o."id" from "ing_hop" h join "stix_object" x on x."id" = h."id" join "stix_edge" e on e."target_key" = x."stix_key" and e."target_ref" = x."stix_id"
     join "stix_object" o on o."stix_key" = e."source_key" and o."stix_id" = e."source_ref" where o."type" in ${INCIDENTS}`,
  );
}

/**
 * Re-derives the incident rows of every incident and sighting the import touched (directly or within
 * two references). Results are added to `summary`. Driver errors propagate.
 */
export async function deriveIncidents(db: SqlRunner, summary: SummaryBuilder, opts: DeriveOptions): Promise<void> {
  await collectAffected(db, opts.freshRegistry === true);
  await db.run('delete from "incident" where "id" in (select ii."incident_id" from "ingest_incident" ii join "ing_affected" a on a."id" = ii."object_id")');

  const maxRow = await db.all<{ m: number | string | null }>('select max("id") as "m" from "incident"');
  let nextIncident = maxRow[0]?.m === null || maxRow[0]?.m === undefined ? 1 : Number(maxRow[0].m) + 1;
  const batchSize = opts.batchSize ?? 1000;
  const weeks = new Map<string, string>();
  const weekOf = (d: string): string => {
    let w = weeks.get(d);
    if (w === undefined) weeks.set(d, (w = isoWeek(d)));
    return w;
  };
  const linkedExploits = new Set<number>();
  const inc = summary.s.incidents;
  let after = 0;

  for (;;) {
    const ids = (await db.all<{ id: number | string }>('select "id" from "ing_affected" where "id" > ? order by "id" limit ?', [after, batchSize])).map((r) => Number(r.id));
    if (ids.length === 0) break;
    const range = [after, ids[ids.length - 1]!];
    after = range[1]!;
    // Set-based reads of the batch: the objects, and their edges with the objects at the other end
    // (one range join each); then the second hop (identity → location, campaign → actor).
    const inBatch = `from "ing_affected" a join "stix_object" o on o."id" = a."id"`;
    const objs = (await db.all<Record<string, unknown>>(`select ${objColumns('o')} ${inBatch} where a."id" > ? and a."id" <= ? order by o."id"`, range)).map((r) => toObj(r));
    const byStix = new Map<string, ObjRow>();
    const keep = (r: Record<string, unknown>): void => {
      if (r.t_id === null || r.t_id === undefined) return;
      const o = toObj(r, 't_');
      if (!o.revoked) byStix.set(o.stix_id, o);
    };
    const edgeCols = `e."id", e."kind", e."source_ref", e."target_ref", e."source_key", w."tlp" as "owner_tlp", w."revoked" as "owner_revoked"`;
    const outRows = await db.all<Record<string, unknown>>(
      `select ${edgeCols}, ${objColumns('t', 't_', LINKED_FIELDS)} ${inBatch}
       join "stix_edge" e on e."source_key" = o."stix_key" and e."source_ref" = o."stix_id" join "stix_object" w on w."id" = e."owner_id"
       left join "stix_object" t on t."stix_key" = e."target_key" and t."stix_id" = e."target_ref" where a."id" > ? and a."id" <= ?`,
      range,
    );
    const inRows = await db.all<Record<string, unknown>>(
      `select ${edgeCols}, ${objColumns('t', 't_', LINKED_FIELDS)} ${inBatch}
       join "stix_edge" e on e."target_key" = o."stix_key" and e."target_ref" = o."stix_id" and e."kind" = 'indicates' join "stix_object" w on w."id" = e."owner_id"
       left join "stix_object" t on t."stix_key" = e."source_key" and t."stix_id" = e."source_ref" where a."id" > ? and a."id" <= ?`,
      range,
    );
    for (const r of [...outRows, ...inRows]) keep(r);
    // Second hop, by the keys of the identities and campaigns just read.
    const hopSources = new Map<number, Set<string>>();
    for (const o of byStix.values()) {
      if (o.type !== 'identity' && o.type !== 'campaign') continue;
      const k = stixKey(o.stix_id);
      let set = hopSources.get(k);
      if (!set) hopSources.set(k, (set = new Set()));
      set.add(o.stix_id);
    }
    const hopRows = (
      await db.allIn<Record<string, unknown>>(
        `select ${edgeCols}, ${objColumns('t', 't_', LINKED_FIELDS)} from "stix_edge" e join "stix_object" w on w."id" = e."owner_id"
         left join "stix_object" t on ${refJoin('t', 'e', 'target')}
         where e."kind" in ('located-at', 'attributed-to') and e."source_key" in (:list)`,
        [...hopSources.keys()],
      )
    ).filter((r) => hopSources.get(Number(r.source_key))?.has(String(r.source_ref)) ?? false);
    for (const r of hopRows) keep(r);
    const outEdges = outRows.map(toEdge).filter((e) => !e.owner_revoked);
    const inEdges = inRows.map(toEdge).filter((e) => !e.owner_revoked);
    const hopEdges = hopRows.map(toEdge).filter((e) => !e.owner_revoked);
    const outBy = groupBy(outEdges, (e) => e.source_ref);
    const inBy = groupBy(inEdges, (e) => e.target_ref);
    const hopBy = groupBy(hopEdges, (e) => e.source_ref);
    for (const l of [...outBy.values(), ...inBy.values(), ...hopBy.values()]) l.sort((a, b) => a.id - b.id);

    const indicatorIds = [...byStix.values()].filter((o) => o.type === 'indicator').map((o) => o.id);
    const valuesBy = groupBy(
      await db.allIn<{ owner_id: number | string; type: string; value: string; hash: string }>(
        'select "owner_id", "type", "value", "hash" from "stix_indicator_value" where "owner_id" in (:list)',
        indicatorIds,
      ),
      (v) => String(v.owner_id),
    );
    const exploitRefs = [...new Set([...byStix.values()].filter((o) => EXPLOIT_TYPES.has(o.type) && o.entity_key).map((o) => o.entity_key!))];
    const actorRefs = [...new Set([...byStix.values()].filter((o) => ACTOR_TYPES.has(o.type) && o.entity_key).map((o) => o.entity_key!))];
    const exploitId = new Map<string, number>();
    for (const r of await db.allIn<{ id: number | string; ref: string }>('select "id", "ref" from "exploit" where "ref" in (:list)', exploitRefs)) exploitId.set(r.ref, Number(r.id));
    const actorId = new Map<string, number>();
    for (const r of await db.allIn<{ id: number | string; ref: string }>('select "id", "ref" from "actor" where "ref" in (:list)', actorRefs)) actorId.set(r.ref, Number(r.id));

    interface Planned {
      o: ObjRow;
      victim: ObjRow;
      ref: string;
      country: string;
      sector: string;
      tlp: TlpLevel;
      exploits: Set<number>;
      actors: Set<number>;
      indicators: Map<string, { type: string; value: string; hash: string }>;
    }
    const planned: Planned[] = [];
    const held = new Map<HeldReason, number[]>();
    const derivedIds: number[] = [];
    const hold = (o: ObjRow, why: HeldReason) => {
      let l = held.get(why);
      if (!l) held.set(why, (l = []));
      l.push(o.id);
      inc.held++;
      inc.heldBy[why] = (inc.heldBy[why] ?? 0) + 1;
    };
    const target = (e: EdgeRow, types: Set<string> | string): ObjRow | undefined => {
      const t = byStix.get(e.target_ref);
      if (!t) return undefined;
      return (typeof types === 'string' ? t.type === types : types.has(t.type)) ? t : undefined;
    };

    for (const o of objs) {
      if (o.revoked) {
        hold(o, 'revoked');
        continue;
      }
      if (o.type === 'sighting' && o.sighting_count === 0) {
        hold(o, 'not-seen');
        continue;
      }
      const out = outBy.get(o.stix_id) ?? [];
      // Pieces every row of this object is built from (explicit markings only).
      let linkTlp: TlpLevel | null = null;
      const exploits = new Set<number>();
      const actors = new Set<number>();
      const indicators = new Map<string, { type: string; value: string; hash: string }>();
      const addIndicator = (ind: ObjRow, edgeTlp: TlpLevel | null) => {
        linkTlp = stricter(stricter(linkTlp, ind.tlp), edgeTlp);
        for (const v of valuesBy.get(String(ind.id)) ?? []) indicators.set(`${v.type}:${v.value}`, { type: v.type, value: v.value, hash: v.hash });
      };
      for (const e of out) {
        if (EXPLOIT_EDGES.has(e.kind)) {
          const t = target(e, EXPLOIT_TYPES);
          const id = t?.entity_key ? exploitId.get(t.entity_key) : undefined;
          if (t && id !== undefined) {
            exploits.add(id);
            linkTlp = stricter(stricter(linkTlp, t.tlp), e.owner_tlp);
          }
        }
        if (ACTOR_EDGES.has(e.kind)) {
          const t = target(e, ACTOR_TYPES);
          const id = t?.entity_key ? actorId.get(t.entity_key) : undefined;
          if (t && id !== undefined) {
            actors.add(id);
            linkTlp = stricter(stricter(linkTlp, t.tlp), e.owner_tlp);
          }
          const c = target(e, 'campaign');
          if (c) {
            for (const h of hopBy.get(c.stix_id) ?? []) {
              if (h.kind !== 'attributed-to') continue;
              const a = target(h, ACTOR_TYPES);
              const aid = a?.entity_key ? actorId.get(a.entity_key) : undefined;
              if (a && aid !== undefined) {
                actors.add(aid);
                linkTlp = stricter(stricter(stricter(stricter(linkTlp, c.tlp), e.owner_tlp), a.tlp), h.owner_tlp);
              }
            }
          }
        }
        if (e.kind === 'sighting-of') {
          const t = target(e, 'indicator');
          if (t) addIndicator(t, e.owner_tlp);
        }
      }
      for (const e of inBy.get(o.stix_id) ?? []) {
        const s = byStix.get(e.source_ref);
        if (s?.type === 'indicator') addIndicator(s, e.owner_tlp);
      }

      let victims: { v: ObjRow; edgeTlp: TlpLevel | null }[] = [];
      for (const e of out) {
        if (!VICTIM_EDGES.has(e.kind)) continue;
        const t = target(e, 'identity');
        if (t?.entity_key && !victims.some((x) => x.v.entity_key === t.entity_key)) victims.push({ v: t, edgeTlp: e.owner_tlp });
      }
      if (victims.length === 0) {
        const creator = out.find((e) => e.kind === 'created-by' && target(e, 'identity')?.entity_key);
        if (creator) victims = [{ v: target(creator, 'identity')!, edgeTlp: creator.owner_tlp }];
      }
      if (victims.length === 0) {
        hold(o, 'no-organisation');
        continue;
      }
      const firstLocation = (edges: readonly EdgeRow[]): { loc: ObjRow; edgeTlp: TlpLevel | null } | undefined => {
        for (const e of edges) {
          if (!LOCATION_EDGES.has(e.kind)) continue;
          const t = target(e, 'location');
          if (t?.country) return { loc: t, edgeTlp: e.owner_tlp };
        }
        return undefined;
      };
      const ownLocation = o.country ? undefined : firstLocation(out);
      let missing: HeldReason | undefined;
      const rowsBefore = planned.length;
      for (const { v, edgeTlp } of victims) {
        let tlp = stricter(stricter(stricter(o.tlp ?? opts.unmarkedTlp, linkTlp), v.tlp), edgeTlp)!;
        let country = o.country ?? ownLocation?.loc.country ?? null;
        if (ownLocation && !o.country) tlp = stricter(stricter(tlp, ownLocation.loc.tlp), ownLocation.edgeTlp)!;
        if (!country) {
          country = v.country;
          if (!country) {
            const vl = firstLocation(hopBy.get(v.stix_id) ?? []);
            if (vl) {
              country = vl.loc.country;
              tlp = stricter(stricter(tlp, vl.loc.tlp), vl.edgeTlp)!;
            }
          }
        }
        const sector = o.sector ?? v.sector;
        if (!country) {
          missing ??= 'no-country';
          continue;
        }
        if (!sector) {
          missing = missing === 'no-country' ? missing : 'no-sector';
          continue;
        }
        planned.push({
          o,
          victim: v,
          ref: victims.length === 1 ? o.stix_id : `${o.stix_id}/${v.entity_key}`,
          country,
          sector,
          tlp,
          exploits,
          actors,
          indicators,
        });
      }
      if (planned.length === rowsBefore) hold(o, missing ?? 'no-organisation');
      else derivedIds.push(o.id);
    }

    // Organisations (pseudonyms), then the rows.
    const orgRows = new Map<string, SqlParam[]>();
    for (const p of planned) if (!orgRows.has(p.victim.entity_key!)) orgRows.set(p.victim.entity_key!, [p.victim.entity_key!, p.sector, p.country]);
    await db.insert('organisation', ['ref', 'sector', 'country'], [...orgRows.values()], 'on conflict ("ref") do nothing');
    const orgId = new Map<string, number>();
    for (const r of await db.allIn<{ id: number | string; ref: string }>('select "id", "ref" from "organisation" where "ref" in (:list)', [...orgRows.keys()])) {
      orgId.set(r.ref, Number(r.id));
    }
    const incidentRows: SqlParam[][] = [];
    const provenance: SqlParam[][] = [];
    const ieRows: SqlParam[][] = [];
    const iaRows: SqlParam[][] = [];
    const indRows: SqlParam[][] = [];
    for (const p of planned) {
      const id = nextIncident++;
      const place = opts.regions(p.country);
      const date = p.o.date!;
      incidentRows.push([
        id, p.ref, date, weekOf(date), isoMonth(date), p.country, place?.region ?? null, place?.subregion ?? null, p.sector,
        p.o.severity ?? opts.defaultSeverity, p.o.disruption ?? false, p.tlp, orgId.get(p.victim.entity_key!)!,
      ]);
      provenance.push([id, p.o.id]);
      for (const x of p.exploits) {
        ieRows.push([id, x]);
        linkedExploits.add(x);
      }
      for (const a of p.actors) iaRows.push([id, a]);
      for (const v of p.indicators.values()) indRows.push([v.type, v.value, v.hash, id]);
      inc.derived++;
      inc.byTlp[p.tlp]++;
    }
    await db.insert(
      'incident',
      ['id', 'ref', 'date', 'week', 'month', 'country', 'region', 'subregion', 'sector', 'severity', 'disruption', 'tlp', 'organisation_id'],
      incidentRows,
    );
    await db.insert('ingest_incident', ['incident_id', 'object_id'], provenance);
    await db.insert('incident_exploit', ['incident_id', 'exploit_id'], ieRows);
    await db.insert('incident_actor', ['incident_id', 'actor_id'], iaRows);
    await db.insert('indicator', ['type', 'value', 'hash', 'incident_id'], indRows);
    await db.runIn('update "stix_object" set "held" = null where "id" in (:list)', derivedIds);
    for (const [why, list] of held) await db.runIn('update "stix_object" set "held" = ? where "id" in (:list)', list, [why]);
  }

  // Zero-day or n-day, as the seeding path decides it: zero-day when an incident used it on or before disclosure.
  await db.runIn(
    `update "exploit" set "kind" = case when exists (
       select 1 from "incident_exploit" ie join "incident" i on i."id" = ie."incident_id"
       where ie."exploit_id" = "exploit"."id" and i."date" <= "exploit"."disclosed") then 'zero-day' else 'n-day' end
     where "kind" <> 'tool' and "disclosed" is not null and "id" in (:list)`,
    [...linkedExploits],
  );
  if (db.dialect === 'postgresql') {
    for (const table of ['incident', 'organisation', 'exploit', 'actor']) {
      await db.all(`select setval(pg_get_serial_sequence('"${table}"', 'id'), coalesce((select max("id") from "${table}"), 0) + 1, false)`);
    }
  }
  await db.dropTemp('ing_hop');
  await db.dropTemp('ing_affected');
}

/**
 * References stated by the objects written in this import that name objects the node does not hold.
 * Counted on the indexed key alone (no row reads): a dangling ref whose key another object happens to
 * share (odds about n / 2^53) would go uncounted — acceptable for a diagnostic.
 */
export async function countUnresolved(db: SqlRunner): Promise<number> {
  let n = 0;
  for (const end of ['source', 'target'] as const) {
    const r = await db.all<{ n: number | string }>(
      `select count(*) as "n" from "stix_edge" e join "ing_touched" t on t."id" = e."owner_id"
       where not exists (select 1 from "stix_object" o where o."stix_key" = e."${end}_key")`,
    );
    n += Number(r[0]?.n ?? 0);
  }
  return n;
}
