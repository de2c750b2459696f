/**
 * A node's synthetic dataset as a STIX 2.1 bundle, so that demos and benchmarks go through the real
 * import path. Importing the bundle yields the same aggregates as seeding the dataset directly
 * (test/ingest/equivalence.test.ts holds the two paths together).
 *
 * Mapping (ids are deterministic UUIDs of the node id and the record, so re-generating gives the same
 * bundle and a re-import changes nothing):
 * - the five TLP 2.0 marking definitions (TLP 2.0 extension);
 * - organisation → identity (`identity_class` organization, `sectors`: a STIX industry-sector value that
 *   maps back to the sector, else the sector id) `located-at` a location per country;
 * - exploit with CVE → vulnerability (CVE external reference, `x_accord_disclosed`); tool family → tool
 *   (well-known tools) or malware (`is_family`); exploit without CVE → vulnerability named by its name;
 * - actor → threat-actor (catalogued name, or "unknown");
 * - indicator value → indicator with a `[type:value = '…']` pattern;
 * - incident → incident with the incident-core extension (`criticality` = 20·(severity−1)+10, an
 *   availability impact of 100 when disruptive), `first_seen` = its date, or — for about one in five that
 *   use an exploit — a sighting of its first exploit (`x_accord_severity`, `x_accord_disruption`), sighted
 *   at the organisation's identity; relationships: targets identity / vulnerability (and location when
 *   the incident's country is not the organisation's), uses tool/malware, attributed-to threat-actor,
 *   indicator indicates incident; `x_accord_sector` when its sector is not the organisation's.
 * Incidents, sightings and their relationships carry the incident's TLP marking; shared reference
 * objects (identities, locations, vulnerabilities, tools, actors, indicators) are TLP:CLEAR.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { IncidentRecord, NodeDataset, TlpLevel } from '../../schema/contract/dataset.js';
import { STIX_SECTOR_MAP } from '../../schema/reference/sectors.js';
import { INCIDENT_CORE_EXTENSION_ID } from '../../nodes/ingest/stix.js';
import { TLP2_EXTENSION_ID, TLP2_MARKING_IDS } from '../../nodes/ingest/tlp.js';
import { hash128 } from './prng.js';

export interface StixBundleOptions {
  /** Namespace of the generated ids (e.g. the node id). */
  namespace: string;
  /** Share of incidents with an exploit written as sightings (default 0.2). */
  sightingShare?: number;
}

type StixObject = Record<string, unknown>;

const REFERENCE_TIME = '2020-01-01T00:00:00.000Z';
const CLEAR = [TLP2_MARKING_IDS.CLEAR];
const WELL_KNOWN_TOOLS = new Set([
  'Cobalt Strike', 'Mimikatz', 'Impacket', 'PsExec', 'AnyDesk', 'Sliver', 'Metasploit', 'Rclone', 'BloodHound', 'AdFind', 'Brute Ratel C4', 'Havoc',
]);
const PATTERN_PATH: Record<string, string> = {
  'ipv4-addr': 'ipv4-addr:value',
  'ipv6-addr': 'ipv6-addr:value',
  'domain-name': 'domain-name:value',
  url: 'url:value',
  'email-addr': 'email-addr:value',
  'file:md5': "file:hashes.'MD5'",
  'file:sha1': "file:hashes.'SHA-1'",
  'file:sha256': "file:hashes.'SHA-256'",
  'file:sha512': "file:hashes.'SHA-512'",
};

/** A STIX industry-sector value that maps exactly onto `sector`, else the sector id itself. */
const STIX_VALUE_OF = new Map<string, string>();
for (const [value, m] of Object.entries(STIX_SECTOR_MAP)) if (m.exact && !STIX_VALUE_OF.has(m.sector)) STIX_VALUE_OF.set(m.sector, value);

function uuid(s: string): string {
  const h = hash128(s).map((x) => x.toString(16).padStart(8, '0')).join('');
  const v = `4${h.slice(13, 16)}`;
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}-${h.slice(20, 32)}`;
}

function stamp(date: string): string {
  return `${date}T00:00:00.000Z`;
}

function quote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The bundle's objects, in an order that needs no look-ahead (markings, reference objects, then each
 * incident with its relationships). Deterministic for a dataset and namespace.
 */
export function* stixObjects(ds: NodeDataset, opts: StixBundleOptions): Generator<StixObject> {
  const ns = opts.namespace;
  const id = (type: string, key: string) => `${type}--${uuid(`${ns}\u0000${type}\u0000${key}`)}`;
  const share = opts.sightingShare ?? 0.2;
  const common = (type: string, created: string, markings: readonly string[]): StixObject => ({
    type,
    spec_version: '2.1',
    created,
    modified: created,
    object_marking_refs: markings,
  });
  const rel = (type: string, source: string, target: string, created: string, markings: readonly string[]): StixObject => ({
    ...common('relationship', created, markings),
    id: id('relationship', `${source}|${type}|${target}`),
    relationship_type: type,
    source_ref: source,
    target_ref: target,
  });

  for (const [level, mid] of Object.entries(TLP2_MARKING_IDS) as [TlpLevel, string][]) {
    yield {
      type: 'marking-definition',
      spec_version: '2.1',
      id: mid,
      created: '2022-10-01T00:00:00.000Z',
      name: `TLP:${level}`,
      extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: level.toLowerCase() } },
    };
  }

  const locationOf = new Map<string, string>();
  const location = function* (country: string): Generator<StixObject> {
    if (locationOf.has(country)) return;
    const lid = id('location', country);
    locationOf.set(country, lid);
    yield { ...common('location', REFERENCE_TIME, CLEAR), id: lid, name: country, country };
  };
  const orgs = new Map<string, { id: string; country: string; sector: string }>();
  for (const o of ds.organisations) {
    yield* location(o.country);
    const oid = id('identity', o.id);
    orgs.set(o.id, { id: oid, country: o.country, sector: o.sector });
    yield { ...common('identity', REFERENCE_TIME, CLEAR), id: oid, name: o.id, identity_class: 'organization', sectors: [STIX_VALUE_OF.get(o.sector) ?? o.sector] };
    yield rel('located-at', oid, locationOf.get(o.country)!, REFERENCE_TIME, CLEAR);
  }

  const exploitOf = new Map<string, string>();
  for (const e of ds.exploits) {
    if (e.kind === 'tool') {
      const tool = WELL_KNOWN_TOOLS.has(e.name);
      const tid = id(tool ? 'tool' : 'malware', e.id);
      exploitOf.set(e.id, tid);
      yield tool
        ? { ...common('tool', REFERENCE_TIME, CLEAR), id: tid, name: e.name }
        : { ...common('malware', REFERENCE_TIME, CLEAR), id: tid, name: e.name, is_family: true };
    } else {
      const vid = id('vulnerability', e.id);
      exploitOf.set(e.id, vid);
      yield {
        ...common('vulnerability', REFERENCE_TIME, CLEAR),
        id: vid,
        name: e.cve ?? e.name,
        ...(e.cve ? { description: e.name, external_references: [{ source_name: 'cve', external_id: e.cve }] } : {}),
        ...(e.disclosed ? { x_accord_disclosed: e.disclosed } : {}),
      };
    }
  }
  const actorOf = new Map<string, string>();
  for (const a of ds.actors) {
    const aid = id('threat-actor', a.id);
    actorOf.set(a.id, aid);
    yield { ...common('threat-actor', REFERENCE_TIME, CLEAR), id: aid, name: a.name, threat_actor_types: [a.catalogued ? 'nation-state' : 'unknown'] };
  }

  const indicatorOf = new Map<string, string>();
  const indicator = function* (type: string, value: string): Generator<StixObject> {
    const key = `${type}:${value}`;
    if (indicatorOf.has(key)) return;
    const path = PATTERN_PATH[type];
    if (!path) throw new Error(`no STIX pattern for indicator type ${type}`);
    const iid = id('indicator', key);
    indicatorOf.set(key, iid);
    yield { ...common('indicator', REFERENCE_TIME, CLEAR), id: iid, pattern: `[${path} = ${quote(value)}]`, pattern_type: 'stix', valid_from: REFERENCE_TIME };
  };

  for (const inc of ds.incidents as IncidentRecord[]) {
    for (const ind of inc.indicators) yield* indicator(ind.type, ind.value);
    const org = orgs.get(inc.organisation);
    if (!org) throw new Error(`incident ${inc.id} names an unknown organisation`);
    if (inc.country !== org.country) yield* location(inc.country);
    const when = stamp(inc.date);
    const marks = [TLP2_MARKING_IDS[inc.tlp]];
    const sighting = inc.exploits.length > 0 && hash128(`${ns}\u0000${inc.id}`)[0] / 2 ** 32 < share;
    const own = sighting ? id('sighting', inc.id) : id('incident', inc.id);
    const extra = inc.sector !== org.sector ? { x_accord_sector: inc.sector } : {};
    if (sighting) {
      yield {
        ...common('sighting', when, marks),
        id: own,
        sighting_of_ref: exploitOf.get(inc.exploits[0]!),
        where_sighted_refs: [org.id],
        count: 1,
        first_seen: when,
        last_seen: when,
        x_accord_severity: inc.severity,
        x_accord_disruption: inc.disruption,
        ...extra,
      };
    } else {
      yield {
        ...common('incident', when, marks),
        id: own,
        name: inc.id,
        first_seen: when,
        ...extra,
        extensions: {
          [INCIDENT_CORE_EXTENSION_ID]: {
            extension_type: 'property-extension',
            determination: 'successful-attempt',
            investigation_status: 'closed',
            criticality: 20 * (inc.severity - 1) + 10,
            ...(inc.disruption ? { availability_impacts: [{ availability_impact: 100 }] } : {}),
          },
        },
      };
      yield rel('targets', own, org.id, when, marks);
    }
    if (inc.country !== org.country) yield rel('targets', own, locationOf.get(inc.country)!, when, marks);
    for (const [k, e] of inc.exploits.entries()) {
      if (sighting && k === 0) continue;
      const target = exploitOf.get(e);
      if (!target) throw new Error(`incident ${inc.id} names an unknown exploit`);
      yield rel(target.startsWith('vulnerability--') ? 'targets' : 'uses', own, target, when, marks);
    }
    for (const a of inc.actors) {
      const target = actorOf.get(a);
      if (!target) throw new Error(`incident ${inc.id} names an unknown actor`);
      yield rel('attributed-to', own, target, when, marks);
    }
    for (const ind of inc.indicators) yield rel('indicates', indicatorOf.get(`${ind.type}:${ind.value}`)!, own, when, marks);
  }
}

/** The whole bundle in memory (small datasets, tests). */
export function stixBundle(ds: NodeDataset, opts: StixBundleOptions): { type: 'bundle'; id: string; objects: StixObject[] } {
  return { type: 'bundle', id: `bundle--${uuid(`${opts.namespace}\u0000bundle`)}`, objects: [...stixObjects(ds, opts)] };
}

/**
 * Writes the bundle to `path` as a stream (one object per line), whatever its size. Resolves with the
 * number of objects and bytes written; rejects with the file-system error.
 */
export async function writeStixBundle(path: string, ds: NodeDataset, opts: StixBundleOptions): Promise<{ objects: number; bytes: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let objects = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  try {
    await write(`{"type":"bundle","id":"bundle--${uuid(`${opts.namespace}\u0000bundle`)}","objects":[\n`);
    let buf = '';
    for (const o of stixObjects(ds, opts)) {
      buf += (objects === 0 ? '' : ',\n') + JSON.stringify(o);
      objects++;
      if (buf.length > 1 << 16) {
        await write(buf);
        buf = '';
      }
    }
    await write(`${buf}\n]}\n`);
    out.end();
    await once(out, 'finish');
  } catch (e) {
    out.destroy();
    throw e;
  }
  return { objects, bytes };
}
