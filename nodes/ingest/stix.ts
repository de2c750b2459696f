/**
 * STIX 2.1 objects → {@link IngestObject}s: validation of each object (refused with STIX_INVALID naming
 * its index, id and field) and the mapping described in docs/ingest.md.
 *
 * Every object is kept in the registry (for idempotence and counting); these types are mapped:
 * identity (victim / reporting organisation: pseudonym, sector), location (country), vulnerability
 * (exploit by CVE), malware and tool (tool families), threat-actor and intrusion-set (actors),
 * campaign (attribution hop), indicator (pattern values), incident and sighting (incident rows),
 * relationship (edges) and marking-definition (TLP meaning). CVE ids, tool, malware and actor names
 * are stored as contract keys (`SummaryBuilder.contractKey`, schema/contract/keys.ts).
 */
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { isIsoDate } from '../../schema/contract/calendar.js';
import { actorByName } from '../../schema/reference/actors.js';
import { normaliseIndicator } from '../db/indicators.js';
import type { RegionLookup } from '../db/regions.js';
import { stixInvalid } from './errors.js';
import { organisationKey, resolveCountry, resolveSector } from './keys.js';
import { CVE_SHAPE, type IngestEdge, type IngestObject, type SummaryBuilder } from './model.js';
import { extractValues, parsePattern, PatternError } from './pattern.js';
import { parseTimestamp, type Timestamp } from './timestamp.js';
import { stricter, tlpFromWord, TLP2_EXTENSION_ID, WELL_KNOWN_TLP } from './tlp.js';

export const INCIDENT_CORE_EXTENSION_ID = 'extension-definition--ef765651-680c-498d-9894-99799f2fa126';

/** STIX 2.1 domain objects (§4). */
const SDO_TYPES = new Set([
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator', 'infrastructure',
  'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data', 'opinion', 'report',
  'threat-actor', 'tool', 'vulnerability',
]);
/** Types that must carry `created` and `modified`. */
const VERSIONED = new Set([...SDO_TYPES, 'relationship', 'sighting']);
const MAPPED = new Set([
  'identity', 'location', 'vulnerability', 'malware', 'tool', 'threat-actor', 'intrusion-set', 'campaign', 'indicator',
  'incident', 'sighting', 'relationship', 'marking-definition',
]);

const TYPE_RE = /^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$/;
/** Characters of a type name (a–z, 0–9, "-"). */
function isTypeChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * The type part of a STIX identifier `<type>--<UUID>` (type: a–z, 0–9, "-", not starting or ending with
 * "-"; UUID: 8-4-4-4-12 hex digits), or undefined when `v` is not one. Never throws.
 */
export function stixIdType(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length < 41 || v.length > 288) return undefined;
  const sep = v.length - 38;
  if (v.charCodeAt(sep) !== 45 || v.charCodeAt(sep + 1) !== 45) return undefined;
  for (let i = sep + 2; i < v.length; i++) {
    const k = i - sep - 2;
    const c = v.charCodeAt(i);
    if (k === 8 || k === 13 || k === 18 || k === 23) {
      if (c !== 45) return undefined;
    } else if (!isHex(c)) return undefined;
  }
  if (v.charCodeAt(0) === 45 || v.charCodeAt(sep - 1) === 45) return undefined;
  for (let i = 0; i < sep; i++) if (!isTypeChar(v.charCodeAt(i))) return undefined;
  return v.slice(0, sep);
}

function isStixId(v: unknown): v is string {
  return stixIdType(v) !== undefined;
}
const RELATIONSHIP_TYPE_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HASH_HEX: Record<string, number> = { 'file:md5': 32, 'file:sha1': 40, 'file:sha256': 64, 'file:sha512': 128 };
const MAX_NAME = 255;

export interface StixMapContext {
  summary: SummaryBuilder;
  secret: string | Buffer;
  regions: RegionLookup;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cut(s: string): string {
  return s.length > MAX_NAME ? s.slice(0, MAX_NAME) : s;
}

/** Maps one parsed element of `objects`. Throws AccordError('STIX_INVALID') naming index, id and field. */
export function mapStixObject(raw: unknown, index: number, ctx: StixMapContext): IngestObject {
  if (!isObj(raw)) throw stixInvalid(index, null, null, 'is not a JSON object');
  const o = raw;
  const objectId = typeof o.id === 'string' ? o.id : null;
  const bad = (field: string, problem: string) => stixInvalid(index, objectId, field, problem);

  const type = o.type;
  if (typeof type !== 'string' || !TYPE_RE.test(type)) throw bad('type', 'is not a STIX type name (3–250 characters: a–z, 0–9, "-")');
  if (typeof o.id !== 'string') throw bad('id', 'is missing or not a string');
  const idType = stixIdType(o.id);
  if (idType === undefined) throw bad('id', 'is not a STIX identifier (<type>--<UUID>)');
  if (idType !== type) throw bad('type', `is "${type}" but the id names type "${idType}"`);
  const id = o.id;

  let legacy = false;
  if (o.spec_version === undefined) {
    if (VERSIONED.has(type) || type === 'marking-definition') legacy = true;
  } else if (o.spec_version !== '2.1' && o.spec_version !== '2.0') {
    throw bad('spec_version', 'must be "2.1" (or "2.0" for a legacy object)');
  }
  if (legacy) ctx.summary.s.legacy++;

  const ts = (field: string, required: boolean): Timestamp | undefined => {
    const v = o[field];
    if (v === undefined) {
      if (required) throw bad(field, 'is required');
      return undefined;
    }
    const t = parseTimestamp(v);
    if (!t) throw bad(field, 'is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)');
    return t;
  };
  const created = ts('created', VERSIONED.has(type) || (type === 'marking-definition' && !legacy));
  const modified = ts('modified', VERSIONED.has(type));
  if (created && modified && modified.canonical < created.canonical) throw bad('modified', 'is earlier than "created"');

  if (o.revoked !== undefined && typeof o.revoked !== 'boolean') throw bad('revoked', 'must be a boolean');
  if (o.created_by_ref !== undefined && !(typeof o.created_by_ref === 'string' && /^identity--/.test(o.created_by_ref) && isStixId(o.created_by_ref))) {
    throw bad('created_by_ref', 'must be an identity id');
  }
  if (o.labels !== undefined && !(Array.isArray(o.labels) && o.labels.every((l) => typeof l === 'string'))) throw bad('labels', 'must be a list of strings');
  if (o.confidence !== undefined && !(Number.isInteger(o.confidence) && (o.confidence as number) >= 0 && (o.confidence as number) <= 100)) {
    throw bad('confidence', 'must be an integer from 0 to 100');
  }
  if (o.external_references !== undefined && !(Array.isArray(o.external_references) && o.external_references.every(isObj))) {
    throw bad('external_references', 'must be a list of objects');
  }
  if (o.extensions !== undefined && !isObj(o.extensions)) throw bad('extensions', 'must be an object');

  // Markings: well-known TLP ids now; others once every definition of the import is known.
  let tlp: TlpLevel | null = null;
  const pending: { ref: string; field: string }[] = [];
  const marking = (ref: unknown, field: string): void => {
    if (typeof ref !== 'string' || !isStixId(ref) || !ref.startsWith('marking-definition--')) throw bad(field, 'must name marking-definition ids');
    const l = WELL_KNOWN_TLP.get(ref);
    if (l) tlp = stricter(tlp, l);
    else if (!pending.some((p) => p.ref === ref)) pending.push({ ref, field });
  };
  if (o.object_marking_refs !== undefined) {
    if (!Array.isArray(o.object_marking_refs)) throw bad('object_marking_refs', 'must be a list of marking-definition ids');
    for (const r of o.object_marking_refs) marking(r, 'object_marking_refs');
  }
  if (o.granular_markings !== undefined) {
    if (!Array.isArray(o.granular_markings)) throw bad('granular_markings', 'must be a list');
    for (const g of o.granular_markings) {
      if (!isObj(g) || !Array.isArray(g.selectors) || g.selectors.length === 0 || !g.selectors.every((s) => typeof s === 'string' && s.length > 0)) {
        throw bad('granular_markings', 'must hold objects with a non-empty "selectors" list');
      }
      if (g.marking_ref !== undefined) marking(g.marking_ref, 'granular_markings');
      else if (typeof g.lang !== 'string') throw bad('granular_markings', 'needs "marking_ref" or "lang" in each entry');
    }
  }

  const out: IngestObject = {
    stixId: id,
    type,
    version: (modified ?? created)?.canonical ?? '',
    source: 'stix',
    index,
    tlp,
    ...(pending.length > 0 ? { pendingMarkings: pending } : {}),
    revoked: o.revoked === true,
  };

  const str = (field: string, required: boolean): string | undefined => {
    const v = o[field];
    if (v === undefined || v === null) {
      if (required) throw bad(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || (required && v.trim().length === 0)) throw bad(field, required ? 'must be a non-empty string' : 'must be a string');
    return v;
  };
  const idList = (field: string, prefixes?: readonly string[]): string[] => {
    const v = o[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw bad(field, 'must be a list of STIX ids');
    for (const r of v) {
      if (typeof r !== 'string' || !isStixId(r)) throw bad(field, 'must be a list of STIX ids');
      if (prefixes && !prefixes.some((p) => r.startsWith(`${p}--`))) throw bad(field, `may only name ${prefixes.join(' or ')} objects`);
    }
    return v as string[];
  };
  const edges: IngestEdge[] = [];
  if (typeof o.created_by_ref === 'string' && (type === 'incident' || type === 'sighting')) edges.push({ kind: 'created-by', source: id, target: o.created_by_ref });

  switch (type) {
    case 'identity': {
      str('name', true);
      if (o.identity_class !== undefined && typeof o.identity_class !== 'string') throw bad('identity_class', 'must be a string');
      let sector: string | undefined;
      if (o.sectors !== undefined) {
        if (!Array.isArray(o.sectors) || !o.sectors.every((s) => typeof s === 'string')) throw bad('sectors', 'must be a list of strings');
        for (const s of o.sectors as string[]) {
          const r = resolveSector(s);
          if (r === undefined) ctx.summary.unknown('sectors', s);
          else sector ??= r;
        }
      }
      out.entityKey = organisationKey(ctx.secret, id);
      out.sector = sector ?? null;
      break;
    }
    case 'location': {
      const country = str('country', false);
      const region = str('region', false);
      const hasPoint = o.latitude !== undefined && o.longitude !== undefined;
      if (country === undefined && region === undefined && !hasPoint) throw bad('country', 'is required when neither "region" nor latitude/longitude is given');
      if (country !== undefined) {
        const c = resolveCountry(country, ctx.regions);
        if (c === undefined) ctx.summary.unknown('countries', country);
        out.country = c ?? null;
      }
      break;
    }
    case 'vulnerability': {
      const name = str('name', true)!;
      let cveText: string | undefined;
      for (const r of (o.external_references as Obj[] | undefined) ?? []) {
        if (typeof r.source_name !== 'string') throw bad('external_references', 'entries need a "source_name"');
        if (r.source_name.toLowerCase() === 'cve' && typeof r.external_id === 'string' && CVE_SHAPE.test(r.external_id.trim())) {
          cveText = r.external_id;
          break;
        }
      }
      if (cveText === undefined && CVE_SHAPE.test(name.trim())) cveText = name;
      const disclosed = o.x_accord_disclosed;
      if (disclosed !== undefined && !isIsoDate(disclosed)) throw bad('x_accord_disclosed', 'is not a YYYY-MM-DD date');
      out.name = cut(name);
      // a CVE id the contract cannot carry: the vulnerability stays in the registry only (counted)
      const cve = cveText === undefined ? null : ctx.summary.contractKey('EXPLOIT', cveText);
      if (cve !== undefined) {
        out.exploit = { ref: cve ?? cut(`vulnerability:${name}`), cve, name: cut(name), kind: 'n-day', disclosed: (disclosed as string | undefined) ?? null };
        out.entityKey = out.exploit.ref;
      }
      break;
    }
    case 'malware':
    case 'tool': {
      const name = str('name', type === 'tool' || (o.is_family === true && !legacy));
      if (type === 'malware' && o.is_family !== undefined && typeof o.is_family !== 'boolean') throw bad('is_family', 'must be a boolean');
      if (type === 'malware' && o.is_family === undefined && !legacy) throw bad('is_family', 'is required');
      if (name !== undefined && name.trim().length > 0) {
        out.name = cut(name.trim());
        const key = ctx.summary.contractKey('TOOL', name);
        if (key !== undefined) {
          out.exploit = { ref: `tool:${key}`, cve: null, name: key, kind: 'tool', disclosed: null };
          out.entityKey = out.exploit.ref;
        }
      }
      break;
    }
    case 'threat-actor':
    case 'intrusion-set': {
      const name = str('name', true)!.trim();
      let aliases: string[] = [];
      if (o.aliases !== undefined) {
        if (!Array.isArray(o.aliases) || !o.aliases.every((a) => typeof a === 'string')) throw bad('aliases', 'must be a list of strings');
        aliases = o.aliases as string[];
      }
      const key = ctx.summary.contractKey('ACTOR', name);
      const known = (key === undefined ? undefined : actorByName(key)) ?? aliases.map((a) => actorByName(a)).find((a) => a !== undefined);
      out.name = cut(name);
      if (known) out.actor = { ref: `actor:${known.name}`, name: known.name, catalogued: true, country: known.country ?? null };
      else if (key !== undefined) out.actor = { ref: `actor:${key}`, name: key, catalogued: false, country: null };
      if (out.actor) out.entityKey = out.actor.ref;
      break;
    }
    case 'campaign':
      out.name = cut(str('name', true)!.trim());
      break;
    case 'indicator': {
      const pattern = str('pattern', true)!;
      const patternType = str('pattern_type', !legacy) ?? 'stix';
      ts('valid_from', true);
      const until = ts('valid_until', false);
      const from = parseTimestamp(o.valid_from);
      if (until && from && until.canonical <= from.canonical) throw bad('valid_until', 'must be later than "valid_from"');
      if (patternType === 'stix') {
        let tree;
        try {
          tree = parsePattern(pattern);
        } catch (e) {
          if (e instanceof PatternError) throw bad('pattern', `is not STIX patterning (${e.message} at character ${e.offset + 1})`);
          throw e;
        }
        const ex = extractValues(tree);
        const ind = ctx.summary.s.indicators;
        if (!ex.simple) ind.nonSimplePatterns++;
        ind.unsupportedTests += ex.unsupported;
        const seen = new Set<string>();
        const values: { type: string; value: string }[] = [];
        for (const v of ex.values) {
          const n = normaliseIndicator(v.type, v.value);
          const hexLen = HASH_HEX[v.type];
          if (n === undefined || (hexLen !== undefined && !(n.length === hexLen && /^[0-9a-f]+$/.test(n)))) {
            ind.malformedValues++;
            continue;
          }
          const k = `${v.type}:${n}`;
          if (seen.has(k)) continue;
          seen.add(k);
          values.push({ type: v.type, value: n });
        }
        ind.values += values.length;
        out.indicatorValues = values;
      } else {
        ctx.summary.s.indicators.nonSimplePatterns++;
      }
      break;
    }
    case 'incident': {
      str('name', true);
      const first = ts('first_seen', false);
      out.date = (first ?? created)!.date;
      out.severity = severityOf(o, bad);
      out.disruption = disruptionOf(o, bad);
      out.sector = accordSectorOf(o, bad);
      break;
    }
    case 'sighting': {
      const of = o.sighting_of_ref;
      if (typeof of !== 'string' || !isStixId(of)) throw bad('sighting_of_ref', 'is required and must be a STIX id');
      const where = idList('where_sighted_refs', ['identity', 'location']);
      idList('observed_data_refs', ['observed-data']);
      if (o.count !== undefined && !(Number.isInteger(o.count) && (o.count as number) >= 0 && (o.count as number) <= 999_999_999)) {
        throw bad('count', 'must be an integer from 0 to 999999999');
      }
      const first = ts('first_seen', false);
      const last = ts('last_seen', false);
      if (first && last && last.canonical < first.canonical) throw bad('last_seen', 'is earlier than "first_seen"');
      out.date = (first ?? created)!.date;
      out.sightingCount = (o.count as number | undefined) ?? null;
      out.severity = severityOf(o, bad);
      out.disruption = disruptionOf(o, bad);
      out.sector = accordSectorOf(o, bad);
      edges.push({ kind: 'sighting-of', source: id, target: of });
      for (const w of where) edges.push({ kind: 'where-sighted', source: id, target: w });
      break;
    }
    case 'relationship': {
      const rt = o.relationship_type;
      if (typeof rt !== 'string' || !RELATIONSHIP_TYPE_RE.test(rt)) throw bad('relationship_type', 'is required (lower-case a–z, 0–9, "-")');
      for (const f of ['source_ref', 'target_ref'] as const) {
        const r = o[f];
        if (typeof r !== 'string' || !isStixId(r)) throw bad(f, 'is required and must be a STIX id');
      }
      ts('start_time', false);
      ts('stop_time', false);
      edges.push({ kind: rt, source: o.source_ref as string, target: o.target_ref as string });
      break;
    }
    case 'marking-definition': {
      out.version = created?.canonical ?? '';
      let level: TlpLevel | null = null;
      const fixed = WELL_KNOWN_TLP.get(id);
      if (o.definition_type !== undefined && typeof o.definition_type !== 'string') throw bad('definition_type', 'must be a string');
      if (o.definition_type === 'tlp') {
        const def = o.definition;
        const l = isObj(def) ? tlpFromWord(def.tlp) : undefined;
        if (!l) throw bad('definition', 'must be { "tlp": "white" | "green" | "amber" | "red" } for a TLP marking');
        level = l;
      }
      const ext = isObj(o.extensions) ? o.extensions[TLP2_EXTENSION_ID] : undefined;
      if (ext !== undefined) {
        const l = isObj(ext) ? tlpFromWord(ext.tlp_2_0) : undefined;
        if (!l || (ext as Obj).tlp_2_0 === 'white' || (ext as Obj).tlp_2_0 === 'amber-strict') {
          throw bad(`extensions.${TLP2_EXTENSION_ID}.tlp_2_0`, 'must be one of "clear", "green", "amber", "amber+strict", "red"');
        }
        if ((ext as Obj).extension_type !== undefined && (ext as Obj).extension_type !== 'property-extension') {
          throw bad(`extensions.${TLP2_EXTENSION_ID}.extension_type`, 'must be "property-extension"');
        }
        level = stricter(level, l);
      }
      if (fixed !== undefined && level !== null && level !== fixed) throw bad('id', `is the TLP:${fixed} marking definition but defines TLP:${level}`);
      out.entityKey = fixed ?? level;
      break;
    }
    default:
      break;
  }
  if (edges.length > 0) out.edges = edges;
  if (!MAPPED.has(type)) ctx.summary.registryOnly(type);
  return out;
}

/**
 * The incident's own sector (`x_accord_sector`: a sector id, STIX industry-sector value or sector name)
 * when it differs from its organisation's; null when absent. An unknown value is refused: the property
 * exists to be exact.
 */
function accordSectorOf(o: Obj, bad: (field: string, problem: string) => Error): string | null {
  const v = o.x_accord_sector;
  if (v === undefined) return null;
  const s = resolveSector(v);
  if (s === undefined) throw bad('x_accord_sector', 'is not a sector of the node\'s taxonomy');
  return s;
}

/**
 * Severity 1–5: `x_accord_severity` (1–5), else an OpenCTI-style `severity` word (low 2, medium 3,
 * high 4, critical 5), else the incident-core extension's `criticality` (0–100 → 1 + ⌊c/20⌋, at most 5);
 * null when none is given.
 */
function severityOf(o: Obj, bad: (field: string, problem: string) => Error): number | null {
  const x = o.x_accord_severity;
  if (x !== undefined) {
    if (!Number.isInteger(x) || (x as number) < 1 || (x as number) > 5) throw bad('x_accord_severity', 'must be an integer from 1 to 5');
    return x as number;
  }
  if (typeof o.severity === 'string') {
    const w = { low: 2, medium: 3, high: 4, critical: 5 }[o.severity.trim().toLowerCase()];
    if (w !== undefined) return w;
  }
  const ext = isObj(o.extensions) ? o.extensions[INCIDENT_CORE_EXTENSION_ID] : undefined;
  if (ext !== undefined) {
    if (!isObj(ext)) throw bad(`extensions.${INCIDENT_CORE_EXTENSION_ID}`, 'must be an object');
    const c = ext.criticality;
    if (c !== undefined) {
      if (!Number.isInteger(c) || (c as number) < 0 || (c as number) > 100) throw bad(`extensions.${INCIDENT_CORE_EXTENSION_ID}.criticality`, 'must be an integer from 0 to 100');
      return Math.min(5, 1 + Math.floor((c as number) / 20));
    }
  }
  return null;
}

/**
 * Disruption of an essential service: `x_accord_disruption` (boolean), else true when the incident-core
 * extension lists an availability impact of 50 or more; null when neither is given.
 */
function disruptionOf(o: Obj, bad: (field: string, problem: string) => Error): boolean | null {
  const x = o.x_accord_disruption;
  if (x !== undefined) {
    if (typeof x !== 'boolean') throw bad('x_accord_disruption', 'must be a boolean');
    return x;
  }
  const ext = isObj(o.extensions) ? o.extensions[INCIDENT_CORE_EXTENSION_ID] : undefined;
  if (isObj(ext) && ext.availability_impacts !== undefined) {
    const list = ext.availability_impacts;
    const field = `extensions.${INCIDENT_CORE_EXTENSION_ID}.availability_impacts`;
    if (!Array.isArray(list)) throw bad(field, 'must be a list');
    let disrupted = false;
    for (const a of list) {
      const v = isObj(a) ? a.availability_impact : undefined;
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 100) throw bad(field, 'entries need an integer "availability_impact" from 0 to 100');
      if ((v as number) >= 50) disrupted = true;
    }
    return disrupted;
  }
  return null;
}
