/**
 * MISP event JSON → {@link IngestObject}s (docs/ingest.md, "MISP").
 *
 * Accepted documents: `{ "Event": {…} }`, `{ "response": [ { "Event": {…} }, … ] }`, a list of
 * `{ "Event": {…} }`, or a bare event. Each event becomes an incident (id `incident--<event uuid>`,
 * version = event `timestamp`) with:
 * - date: `date`; severity from `threat_level_id` (1 High → 4, 2 Medium → 3, 3 Low → 2, 4 → default);
 * - TLP from `tlp:*` tags (TLP 1.0 and 2.0 words; `tlp:unclear` → RED; `tlp:ex:chr` is not a level);
 * - organisation: the `victim` object's `name` (or a `target-org` attribute), else the creator `Orgc`;
 * - sector / country: the victim object's `sectors` / `regions`, `target-location` attributes, and the
 *   `sector`, `country` galaxies, `dhs-ciip-sectors:*` and `nis2:impact-sectors-impacted` tags;
 * - actors from threat-actor / intrusion-set galaxies, tools from tool and malware galaxies, CVEs from
 *   `vulnerability` attributes, each as a contract key (`SummaryBuilder.contractKey`: names normalised,
 *   CVE ids the contract cannot carry dropped and counted);
 * - indicator values from ip-src/ip-dst (and `|port`), domain, hostname, domain|ip, url, email*,
 *   md5/sha1/sha256/sha512 and filename|hash attributes (attribute TLP tags make them stricter).
 * The whole document is read (MISP events are small); its size is bounded by `maxMispBytes`.
 */
import { isIP } from 'node:net';
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { isIsoDate } from '../../schema/contract/calendar.js';
import { sectorFromCisa, sectorFromNis2 } from '../../schema/reference/sectors.js';
import { normaliseIndicator } from '../db/indicators.js';
import { mispInvalid } from './errors.js';
import { JsonStreamError, parseJsonDocument } from './json-stream.js';
import { keyedStixId, resolveCountry, resolveSector } from './keys.js';
import type { IngestLimits } from './limits.js';
import { CVE_SHAPE, type IngestEdge, type IngestObject } from './model.js';
import { actorObject, contentVersion, organisationObject, toolObject, vulnerabilityObject } from './shared-objects.js';
import type { StixMapContext } from './stix.js';
import type { ReaderHooks } from './stix-reader.js';
import { parseTimestamp, timestampFromUnixSeconds } from './timestamp.js';
import { stricter, tlpFromWord } from './tlp.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const TOOL_GALAXIES = new Set([
  'tool', 'malpedia', 'ransomware', 'botnet', 'rat', 'backdoor', 'banker', 'stealer', 'exploit-kit', 'android',
  'mitre-malware', 'mitre-tool', 'mitre-enterprise-attack-malware', 'mitre-enterprise-attack-tool', 'mitre-mobile-attack-malware', 'mitre-ics-software',
]);
const ACTOR_GALAXIES = new Set(['threat-actor', 'mitre-intrusion-set', 'mitre-enterprise-attack-intrusion-set', 'mitre-mobile-attack-intrusion-set', 'mitre-ics-groups']);
const COUNTRY_GALAXIES = new Set(['country', 'target-information']);
const HASH_TYPES: Record<string, string> = { md5: 'file:md5', sha1: 'file:sha1', sha256: 'file:sha256', sha512: 'file:sha512' };
const HASH_HEX: Record<string, number> = { 'file:md5': 32, 'file:sha1': 40, 'file:sha256': 64, 'file:sha512': 128 };

/** "Name - S0001" (MITRE galaxies) → "Name". */
function clusterName(v: string): string {
  return v.replace(/\s+-\s+[A-Z]\d{4}$/, '').trim();
}

/** Indicator values of one attribute (type → node indicator types), possibly none. */
function attributeValues(type: string, value: string): { type: string; value: string }[] {
  const t = type.toLowerCase();
  const ip = (v: string) => {
    const kind = isIP(v.split('/')[0]!.trim());
    return kind === 4 ? [{ type: 'ipv4-addr', value: v }] : kind === 6 ? [{ type: 'ipv6-addr', value: v }] : [];
  };
  if (t === 'ip-src' || t === 'ip-dst') return ip(value);
  if (t === 'ip-src|port' || t === 'ip-dst|port') return ip(value.split('|')[0]!);
  if (t === 'domain' || t === 'hostname') return [{ type: 'domain-name', value }];
  if (t === 'domain|ip') {
    const [d, i] = value.split('|');
    return [{ type: 'domain-name', value: d ?? '' }, ...ip(i ?? '')];
  }
  if (t === 'url') return [{ type: 'url', value }];
  if (t === 'email' || t === 'email-src' || t === 'email-dst') return [{ type: 'email-addr', value }];
  if (HASH_TYPES[t]) return [{ type: HASH_TYPES[t]!, value }];
  const fh = /^filename\|(md5|sha1|sha256|sha512)$/.exec(t);
  if (fh) return [{ type: HASH_TYPES[fh[1]!]!, value: value.split('|')[1] ?? '' }];
  return [];
}

/** The events of a MISP document. Throws MISP_INVALID when it is not one. */
function eventsOf(doc: unknown): Obj[] {
  const unwrap = (x: unknown, i: number): Obj => {
    if (isObj(x) && isObj(x.Event)) return x.Event;
    throw mispInvalid(i, null, 'Event', 'is missing: each entry must be { "Event": { … } }');
  };
  if (Array.isArray(doc)) return doc.map(unwrap);
  if (isObj(doc)) {
    if (isObj(doc.Event)) return [doc.Event];
    if (Array.isArray(doc.response)) return doc.response.map(unwrap);
    if (typeof doc.uuid === 'string' && ('Attribute' in doc || 'info' in doc)) return [doc];
  }
  throw mispInvalid(null, null, null, 'is not a MISP event document ({ "Event": … }, { "response": [ … ] } or a list of events)');
}

interface Collected {
  tlp: TlpLevel | null;
  sectors: string[];
  countries: string[];
  actors: string[];
  tools: string[];
}

/** Maps one event. Throws AccordError('MISP_INVALID') naming the event index, uuid and field. */
export function mapMispEvent(ev: Obj, index: number, ctx: StixMapContext): IngestObject[] {
  const uuid = typeof ev.uuid === 'string' ? ev.uuid : null;
  const bad = (field: string, problem: string, objectId: string | null = uuid) => mispInvalid(index, objectId, field, problem);
  if (!uuid || !UUID.test(uuid)) throw bad('Event.uuid', 'is required and must be a UUID');
  if (!isIsoDate(ev.date)) throw bad('Event.date', 'is required and must be a YYYY-MM-DD date');
  let version: string;
  if (ev.timestamp !== undefined) {
    const t = timestampFromUnixSeconds(ev.timestamp);
    if (!t) throw bad('Event.timestamp', 'must be a Unix time in seconds');
    version = t.canonical;
  } else {
    version = contentVersion(ev);
  }
  if (ev.info !== undefined && typeof ev.info !== 'string') throw bad('Event.info', 'must be a string');
  let severity: number | null = null;
  if (ev.threat_level_id !== undefined) {
    const t = String(ev.threat_level_id);
    if (!/^[1-4]$/.test(t)) throw bad('Event.threat_level_id', 'must be 1 (high), 2 (medium), 3 (low) or 4 (undefined)');
    severity = ({ '1': 4, '2': 3, '3': 2, '4': null } as Record<string, number | null>)[t]!;
  }
  const summary = ctx.summary;
  const col: Collected = { tlp: null, sectors: [], countries: [], actors: [], tools: [] };

  const readTags = (tags: unknown, field: string, into: { tlp: TlpLevel | null }, objectId: string | null): void => {
    if (tags === undefined) return;
    if (!Array.isArray(tags)) throw bad(field, 'must be a list', objectId);
    tags.forEach((tag, k) => {
      const name = isObj(tag) ? tag.name : undefined;
      if (typeof name !== 'string') throw bad(`${field}[${k}].name`, 'must be a string', objectId);
      const n = name.trim();
      const lower = n.toLowerCase();
      if (lower.startsWith('tlp:')) {
        const word = lower.slice(4);
        if (word === 'unclear') into.tlp = stricter(into.tlp, 'RED');
        else if (word === 'ex:chr') summary.unknown('tlp', n);
        else {
          const l = tlpFromWord(word);
          if (!l) throw bad(`${field}[${k}].name`, `is the unknown TLP marking "${n}"`, objectId);
          into.tlp = stricter(into.tlp, l);
        }
        return;
      }
      const g = /^misp-galaxy:([a-z0-9-]+)="(.*)"$/i.exec(n);
      if (g) {
        galaxy(g[1]!.toLowerCase(), g[2]!);
        return;
      }
      const cisa = /^dhs-ciip-sectors:"?([^"]+)"?$/i.exec(n);
      if (cisa) {
        const s = sectorFromCisa(cisa[1]!) ?? resolveSector(cisa[1]!);
        if (s) col.sectors.push(s);
        else summary.unknown('sectors', cisa[1]!);
        return;
      }
      const nis2 = /^nis2:impact-sectors-impacted="([^"]+)"$/i.exec(n);
      if (nis2) {
        const s = sectorFromNis2(nis2[1]!) ?? resolveSector(nis2[1]!);
        if (s) col.sectors.push(s);
        else summary.unknown('sectors', nis2[1]!);
      }
    });
  };
  const galaxy = (type: string, value: string): void => {
    const v = value.trim();
    if (v.length === 0) return;
    if (ACTOR_GALAXIES.has(type)) col.actors.push(clusterName(v));
    else if (TOOL_GALAXIES.has(type)) col.tools.push(clusterName(v));
    else if (type === 'sector') {
      const s = resolveSector(v);
      if (s) col.sectors.push(s);
      else summary.unknown('sectors', v);
    } else if (COUNTRY_GALAXIES.has(type)) {
      const c = resolveCountry(v, ctx.regions);
      if (c) col.countries.push(c);
      else summary.unknown('countries', v);
    }
  };

  readTags(ev.Tag, 'Event.Tag', col, uuid);
  if (ev.Galaxy !== undefined) {
    if (!Array.isArray(ev.Galaxy)) throw bad('Event.Galaxy', 'must be a list');
    ev.Galaxy.forEach((gx, k) => {
      if (!isObj(gx) || typeof gx.type !== 'string') throw bad(`Event.Galaxy[${k}].type`, 'must be a string');
      const clusters = gx.GalaxyCluster ?? [];
      if (!Array.isArray(clusters)) throw bad(`Event.Galaxy[${k}].GalaxyCluster`, 'must be a list');
      clusters.forEach((c, j) => {
        if (!isObj(c) || typeof c.value !== 'string') throw bad(`Event.Galaxy[${k}].GalaxyCluster[${j}].value`, 'must be a string');
        galaxy(gx.type as string, c.value);
      });
    });
  }

  const indicatorTlp = { tlp: null as TlpLevel | null };
  const values = new Map<string, { type: string; value: string }>();
  const cves = new Set<string>();
  const victimNames: string[] = [];
  const readAttribute = (a: unknown, field: string): void => {
    if (!isObj(a)) throw bad(field, 'must be an object');
    const aid = typeof a.uuid === 'string' ? a.uuid : null;
    if (a.uuid !== undefined && (!aid || !UUID.test(aid))) throw bad(`${field}.uuid`, 'must be a UUID', aid);
    if (typeof a.type !== 'string' || a.type.length === 0) throw bad(`${field}.type`, 'is required and must be a string', aid);
    if (typeof a.value !== 'string') throw bad(`${field}.value`, 'is required and must be a string', aid);
    if (a.timestamp !== undefined && !timestampFromUnixSeconds(a.timestamp)) throw bad(`${field}.timestamp`, 'must be a Unix time in seconds', aid);
    if (a.first_seen !== undefined && a.first_seen !== null && !parseTimestamp(String(a.first_seen).replace(/\+00:?00$/, 'Z'))) {
      throw bad(`${field}.first_seen`, 'must be a timestamp', aid);
    }
    readTags(a.Tag, `${field}.Tag`, indicatorTlp, aid);
    const type = a.type.toLowerCase();
    const value = a.value;
    if (type === 'vulnerability') {
      if (!CVE_SHAPE.test(value.trim())) throw bad(`${field}.value`, 'is not a CVE id (CVE-YYYY-NNNN…)', aid);
      cves.add(value.trim().toUpperCase());
      return;
    }
    if (type === 'target-org') {
      if (value.trim()) victimNames.push(value);
      return;
    }
    if (type === 'target-location') {
      const c = resolveCountry(value, ctx.regions);
      if (c) col.countries.push(c);
      else summary.unknown('countries', value);
      return;
    }
    const mapped = attributeValues(type, value);
    if (mapped.length === 0) summary.s.indicators.unsupportedTests++;
    for (const v of mapped) {
      const n = normaliseIndicator(v.type, v.value);
      const hex = HASH_HEX[v.type];
      if (n === undefined || (hex !== undefined && !(n.length === hex && /^[0-9a-f]+$/.test(n)))) {
        summary.s.indicators.malformedValues++;
        continue;
      }
      values.set(`${v.type}:${n}`, { type: v.type, value: n });
    }
  };
  if (ev.Attribute !== undefined) {
    if (!Array.isArray(ev.Attribute)) throw bad('Event.Attribute', 'must be a list');
    ev.Attribute.forEach((a, k) => readAttribute(a, `Event.Attribute[${k}]`));
  }
  if (ev.Object !== undefined) {
    if (!Array.isArray(ev.Object)) throw bad('Event.Object', 'must be a list');
    ev.Object.forEach((ob, k) => {
      const field = `Event.Object[${k}]`;
      if (!isObj(ob) || typeof ob.name !== 'string') throw bad(`${field}.name`, 'must be a string');
      const attrs = ob.Attribute ?? [];
      if (!Array.isArray(attrs)) throw bad(`${field}.Attribute`, 'must be a list');
      if (ob.name === 'victim') {
        attrs.forEach((a, j) => {
          if (!isObj(a) || typeof a.object_relation !== 'string' || typeof a.value !== 'string') {
            throw bad(`${field}.Attribute[${j}]`, 'needs string "object_relation" and "value"');
          }
          const rel = a.object_relation;
          if (rel === 'name') victimNames.push(a.value);
          else if (rel === 'sectors') {
            const s = resolveSector(a.value);
            if (s) col.sectors.push(s);
            else summary.unknown('sectors', a.value);
          } else if (rel === 'regions') {
            const c = resolveCountry(a.value, ctx.regions);
            if (c) col.countries.push(c);
            else summary.unknown('countries', a.value);
          }
          readTags(a.Tag, `${field}.Attribute[${j}].Tag`, indicatorTlp, typeof a.uuid === 'string' ? a.uuid : null);
        });
      } else {
        attrs.forEach((a, j) => readAttribute(a, `${field}.Attribute[${j}]`));
      }
    });
  }

  const out: IngestObject[] = [];
  const incidentId = `incident--${uuid.toLowerCase()}`;
  const sector = col.sectors[0] ?? null;
  const country = col.countries[0] ?? null;
  const edges: IngestEdge[] = [];
  const victim = victimNames.find((n) => n.trim().length > 0);
  if (victim !== undefined) {
    const v = organisationObject(ctx.secret, 'misp-victim', victim, 'misp', index, sector, country);
    out.push(v);
    edges.push({ kind: 'targets', source: incidentId, target: v.stixId });
  }
  const orgc = isObj(ev.Orgc) ? ev.Orgc : undefined;
  const orgKey = orgc ? (typeof orgc.uuid === 'string' ? orgc.uuid : typeof orgc.name === 'string' ? orgc.name : undefined) : undefined;
  if (orgKey !== undefined) {
    const r = organisationObject(ctx.secret, 'misp-org', orgKey, 'misp', index, null, null);
    out.push(r);
    edges.push({ kind: 'created-by', source: incidentId, target: r.stixId });
  }
  for (const name of summary.contractKeys('TOOL', col.tools)) {
    const t = toolObject(ctx.secret, name, 'misp', index);
    out.push(t);
    edges.push({ kind: 'uses', source: incidentId, target: t.stixId });
  }
  for (const cve of summary.contractKeys('EXPLOIT', cves)) {
    const v = vulnerabilityObject(ctx.secret, cve, 'misp', index);
    out.push(v);
    edges.push({ kind: 'targets', source: incidentId, target: v.stixId });
  }
  for (const name of summary.contractKeys('ACTOR', col.actors)) {
    const a = actorObject(ctx.secret, name, 'misp', index);
    out.push(a);
    edges.push({ kind: 'attributed-to', source: incidentId, target: a.stixId });
  }
  out.push({
    stixId: incidentId,
    type: 'incident',
    version,
    source: 'misp',
    index,
    tlp: col.tlp,
    revoked: false,
    date: ev.date as string,
    severity,
    disruption: null,
    sector,
    country,
    edges,
  });
  summary.s.indicators.values += values.size;
  const indicatorId = keyedStixId(ctx.secret, 'indicator', `misp-event:${uuid.toLowerCase()}`);
  out.push({
    stixId: indicatorId,
    type: 'indicator',
    version,
    source: 'misp',
    index,
    tlp: stricter(col.tlp, indicatorTlp.tlp),
    revoked: false,
    indicatorValues: [...values.values()],
    edges: [{ kind: 'indicates', source: indicatorId, target: incidentId }],
  });
  return out;
}

/**
 * Reads a whole MISP document (bounded by `maxMispBytes`, nesting and string limits) and emits its
 * events' objects. Throws AccordError('MISP_INVALID') for malformed JSON (with position), a document
 * that is not MISP, or an invalid event/attribute.
 */
export async function readMisp(source: AsyncIterable<Buffer>, ctx: StixMapContext, limits: IngestLimits, batchSize: number, hooks: ReaderHooks): Promise<void> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of source) {
    size += c.length;
    if (size > limits.maxMispBytes) throw mispInvalid(null, null, null, `is larger than the limit of ${limits.maxMispBytes} bytes for MISP documents`);
    parts.push(c);
    hooks.progress(size);
  }
  let doc: unknown;
  try {
    doc = parseJsonDocument(Buffer.concat(parts), limits);
  } catch (e) {
    if (e instanceof JsonStreamError) throw mispInvalid(null, null, null, e.message, e.position);
    throw e;
  }
  const events = eventsOf(doc);
  let batch: IngestObject[] = [];
  for (let i = 0; i < events.length; i++) {
    batch.push(...mapMispEvent(events[i]!, i, ctx));
    if (batch.length >= batchSize) {
      await hooks.emit(batch);
      batch = [];
    }
  }
  await hooks.emit(batch);
}
