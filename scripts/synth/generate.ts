/**
 * Synthetic federation generator: one `NodeDataset` per node, deterministic for a given seed, shaped
 * like real incident reporting, plus the ground truth of planted cross-border campaigns.
 *
 * Shape of the data:
 * - organisations per node with a country and sector in the node's scope; incidents per organisation
 *   follow a Zipf law (a few organisations report most incidents — what contribution bounding is for);
 * - incident date uniform over the window with fewer incidents at weekends; severity 1–5 skewed low;
 *   disruption likelier at high severity; TLP mostly GREEN/AMBER, some CLEAR, few AMBER+STRICT/RED;
 * - exploits: KEV CVEs weighted by popularity (famous CVEs, edge-device vendors, ransomware use), only
 *   once disclosed (n-day), with a boost for recently disclosed ones and about 1.5 % zero-days (incident on
 *   or before disclosure); public tool families; a few node-local family names that occur 1–3 times
 *   (they exercise DP partition selection);
 * - actors: about 30 % attributed to a catalogued actor, the rest `unknown`;
 * - indicators: documentation-range IPv4 (RFC 5737), `.example` domains (RFC 2606) and sha256 values,
 *   drawn from federation-wide pools so that popular infrastructure recurs across nodes.
 * Planted campaigns (see `PlantedCampaign`) are spread over several nodes with only a handful of
 * incidents in each node, so they emerge only in the federation-wide aggregate. Their CVE, tool and
 * indicators never occur in background incidents.
 *
 * CVE disclosure dates are estimated from the KEV entry (`estimatedDisclosure`), since KEV does not
 * carry them. An exploit record's `kind` is `zero-day` when the node holds at least one incident using
 * it on or before its disclosure date, else `n-day`; tools are `tool`.
 */
import { AccordError } from '../../schema/errors.js';
import type {
  ActorRecord,
  ExploitRecord,
  IncidentRecord,
  IndicatorRecord,
  NodeDataset,
  OrganisationRecord,
  TlpLevel,
} from '../../schema/contract/dataset.js';
import { isCountry } from '../../schema/reference/countries.js';
import { isSector, SECTOR_IDS, type SectorId } from '../../schema/reference/sectors.js';
import { KEV, type KevEntry } from '../../schema/reference/kev.js';
import { actorByName, ACTORS } from '../../schema/reference/actors.js';
import { hash32, Rng, Weighted, zipfWeights } from './prng.js';
import { CERT_SECTOR_WEIGHTS, DEMO_NODES, type NodeSpec } from './nodes.js';
import {
  ACTOR_HEAD,
  CAMPAIGN_TOOLS,
  EDGE_VENDORS,
  ENERGY_CAMPAIGN_ACTORS,
  FAMOUS_CVES,
  PUBLIC_TOOLS,
  localFamilyName,
} from './vocab.js';

export interface FederationOptions {
  /** Seed: the same seed and options give byte-identical output. */
  seed: number | string;
  /** Nodes to generate; default `DEMO_NODES`. */
  nodes?: readonly NodeSpec[];
  /** Incidents per node (planted incidents included), unless a node spec sets its own `incidents`. */
  incidentsPerNode: number;
  /** First day of the window, ISO `YYYY-MM-DD` (default `2024-01-01`). */
  from?: string;
  /** Last day of the window, inclusive (default `2024-12-31`). */
  to?: string;
  /** Plant the cross-border campaigns (default true). */
  plantCampaigns?: boolean;
}

/** Ground truth of one planted cross-border campaign. */
export interface PlantedCampaign {
  id: string;
  kind: 'exploit' | 'tool';
  description: string;
  /** The exploit id shared by all its incidents (a CVE id, or `tool:<name>`). */
  exploitId: string;
  cve?: string;
  tool?: string;
  /** Sector all its incidents are in, when the campaign targets one sector. */
  sector?: SectorId;
  /** Catalogued actor named in (some of) its incidents. */
  actor?: string;
  /** Indicators shared by its incidents; they occur in no other incident. */
  indicators: IndicatorRecord[];
  /** Inclusive date window of its incidents (an ISO fortnight Monday–Sunday, or a calendar month). */
  window: { from: string; to: string };
  nodes: string[];
  countries: string[];
  incidents: number;
  /** Distinct organisations hit (each at most once per node). */
  organisations: number;
  byNode: Record<string, number>;
  byCountry: Record<string, number>;
}

export interface Federation {
  datasets: Record<string, NodeDataset>;
  planted: PlantedCampaign[];
  /** Node-local family names per node (each occurs in 1–3 incidents of that node only). */
  localTools: Record<string, string[]>;
}

const DAY_MS = 86_400_000;
const DEFAULT_FROM = '2024-01-01';
const DEFAULT_TO = '2024-12-31';
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_INCIDENTS = 10_000_000;

function dayOf(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}

function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function validIsoDate(s: unknown): s is string {
  return typeof s === 'string' && ISO_DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && isoOf(dayOf(s)) === s;
}

/**
 * Estimated public disclosure date of a KEV entry (KEV does not record it): for a CVE id from an
 * earlier year than `dateAdded`, a day in the CVE's year (never after `dateAdded`); otherwise 0–14 days
 * before `dateAdded`, not before 1 January of the CVE year. Deterministic per CVE id, independent of seed.
 */
export function estimatedDisclosure(e: KevEntry): string {
  const added = dayOf(e.dateAdded);
  const year = Number(e.cveID.slice(4, 8));
  const addedYear = Number(e.dateAdded.slice(0, 4));
  const jan1 = dayOf(`${String(year).padStart(4, '0')}-01-01`);
  const h = hash32(e.cveID);
  const day = year < addedYear ? Math.min(added, jan1 + (h % 330)) : Math.max(jan1, added - (h % 15));
  return isoOf(day);
}

// --- federation-wide public context -------------------------------------------------------------

interface CveTable {
  entries: KevEntry[]; // sorted by disclosure day
  discDay: Int32Array;
  discIso: string[];
  weights: Weighted;
}

function upperBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sampleRange(w: Weighted, rng: Rng, lo: number, hi: number): number {
  if (hi <= lo) return -1;
  const base = lo > 0 ? w.cum[lo - 1]! : 0;
  const span = w.cum[hi - 1]! - base;
  if (!(span > 0)) return -1;
  const u = base + rng.float() * span;
  let a = lo;
  let b = hi - 1;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (w.cum[mid]! > u) b = mid;
    else a = mid + 1;
  }
  return a;
}

function buildCveTable(rng: Rng, excluded: ReadonlySet<string>): CveTable {
  const withDisc = KEV.map((e) => ({ e, iso: estimatedDisclosure(e) }));
  withDisc.sort((x, y) => (x.iso < y.iso ? -1 : x.iso > y.iso ? 1 : x.e.cveID < y.e.cveID ? -1 : 1));
  // Popularity: a seeded Zipf rank over the catalog, boosted for famous CVEs, edge devices and ransomware use.
  const rank = rng.shuffled(withDisc.map((_, i) => i));
  const rankOf = new Int32Array(withDisc.length);
  rank.forEach((idx, r) => (rankOf[idx] = r));
  const weights = withDisc.map(({ e }, i) => {
    if (excluded.has(e.cveID)) return 0;
    let w = 1 / Math.pow(rankOf[i]! + 10, 1.1);
    if (EDGE_VENDORS.has(e.vendorProject)) w *= 2.5;
    if (e.knownRansomwareCampaignUse) w *= 2;
    const famous = FAMOUS_CVES[e.cveID];
    if (famous) w *= famous * 5;
    return w;
  });
  return {
    entries: withDisc.map((x) => x.e),
    discDay: Int32Array.from(withDisc.map((x) => dayOf(x.iso))),
    discIso: withDisc.map((x) => x.iso),
    weights: new Weighted(weights),
  };
}

interface Pool {
  values: string[];
  weights: Weighted;
}

function pool(rng: Rng, values: string[], excluded: ReadonlySet<string>, s = 1.05): Pool {
  const shuffled = rng.shuffled(values);
  const w = zipfWeights(shuffled.length, s, 2).map((x, i) => (excluded.has(shuffled[i]!) ? 0 : x));
  return { values: shuffled, weights: new Weighted(w) };
}

const DOC_NETS = ['192.0.2', '198.51.100', '203.0.113'];
const DOMAIN_A = ['update', 'cdn', 'secure', 'login', 'mail', 'cloud', 'sync', 'portal', 'account', 'verify', 'files', 'docs', 'static', 'api', 'auth', 'office', 'service', 'support', 'data', 'web'];
const DOMAIN_B = ['srv', 'net', 'hub', 'box', 'zone', 'link', 'host', 'gate', 'point', 'base'];

interface ActorChoice {
  name: string;
  country?: string;
  sectors: readonly string[];
  weight: number;
}

const EUROPE = new Set(['DE', 'FR', 'GB', 'IT', 'ES', 'PL', 'NL', 'BE', 'SE', 'NO', 'FI', 'DK', 'AT', 'CH', 'CZ', 'UA', 'RO', 'GR', 'LT', 'EE', 'LV']);

function actorChoices(rng: Rng): ActorChoice[] {
  const out: ActorChoice[] = [];
  const seen = new Set<string>();
  for (const [name, weight] of ACTOR_HEAD) {
    const a = actorByName(name);
    if (!a || seen.has(a.name)) continue;
    seen.add(a.name);
    out.push({ name: a.name, ...(a.country ? { country: a.country } : {}), sectors: a.sectors, weight });
  }
  const tail = ACTORS.filter(
    (a) => !seen.has(a.name) && (['RU', 'CN', 'IR', 'KP', 'BY'].includes(a.country ?? '') || a.victims.some((v) => EUROPE.has(v))),
  );
  for (const a of rng.shuffled(tail).slice(0, 80)) {
    out.push({ name: a.name, ...(a.country ? { country: a.country } : {}), sectors: a.sectors, weight: 0.08 });
  }
  return out;
}

interface Context {
  seed: number | string;
  windowDays: string[]; // iso per day index
  firstDay: number;
  dayWeights: Weighted;
  cves: CveTable;
  cveByExploit: Map<string, KevEntry>;
  disclosureOf: Map<string, string>;
  tools: Weighted;
  actors: ActorChoice[];
  actorBySector: Map<string, Weighted>;
  ips: Pool;
  domains: Pool;
  hashes: Pool;
  severity: Weighted;
  tlpLow: Weighted;
  tlpHigh: Weighted;
}

const TLP_ORDER: readonly TlpLevel[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const DISRUPTION_P = [0.01, 0.04, 0.12, 0.35, 0.7];

// --- validation ---------------------------------------------------------------------------------

function invalid(message: string): never {
  throw new AccordError('CONFIG_INVALID', message);
}

function validate(opts: FederationOptions, nodes: readonly NodeSpec[], from: string, to: string): void {
  if (typeof opts.seed !== 'number' && typeof opts.seed !== 'string') invalid('seed must be a number or a string.');
  if (!Number.isInteger(opts.incidentsPerNode) || opts.incidentsPerNode < 0 || opts.incidentsPerNode > MAX_INCIDENTS) {
    invalid(`incidentsPerNode must be an integer between 0 and ${MAX_INCIDENTS}.`);
  }
  if (!validIsoDate(from) || !validIsoDate(to)) invalid('from and to must be ISO dates (YYYY-MM-DD).');
  if (from > to) invalid('from must not be after to.');
  if (nodes.length === 0) invalid('at least one node is required.');
  const ids = new Set<string>();
  for (const n of nodes) {
    if (typeof n.id !== 'string' || !NODE_ID.test(n.id)) invalid('node ids must be lower-case kebab-case (a-z, 0-9, -).');
    if (ids.has(n.id)) invalid(`node id ${n.id} is used twice.`);
    ids.add(n.id);
    if (!Number.isInteger(n.organisations) || n.organisations < 1 || n.organisations > 1_000_000) {
      invalid(`node ${n.id}: organisations must be an integer between 1 and 1000000.`);
    }
    if (n.incidents !== undefined && (!Number.isInteger(n.incidents) || n.incidents < 0 || n.incidents > MAX_INCIDENTS)) {
      invalid(`node ${n.id}: incidents must be an integer between 0 and ${MAX_INCIDENTS}.`);
    }
    const countries = Object.entries(n.countries ?? {});
    if (countries.length === 0) invalid(`node ${n.id}: at least one country is required.`);
    for (const [c, w] of countries) {
      if (!isCountry(c)) invalid(`node ${n.id}: ${c} is not an ISO 3166-1 alpha-2 code.`);
      if (!(w > 0) || !Number.isFinite(w)) invalid(`node ${n.id}: country weights must be positive.`);
    }
    const sectors = Object.entries(n.sectors ?? CERT_SECTOR_WEIGHTS);
    if (sectors.length === 0) invalid(`node ${n.id}: at least one sector is required.`);
    for (const [s, w] of sectors) {
      if (!isSector(s)) invalid(`node ${n.id}: ${s} is not a sector id.`);
      if (!(w! > 0) || !Number.isFinite(w)) invalid(`node ${n.id}: sector weights must be positive.`);
    }
    if (n.zipf !== undefined && !(n.zipf >= 0 && n.zipf <= 3)) invalid(`node ${n.id}: zipf must be in [0, 3].`);
    if (n.localTools !== undefined && (!Number.isInteger(n.localTools) || n.localTools < 0 || n.localTools > 1000)) {
      invalid(`node ${n.id}: localTools must be an integer between 0 and 1000.`);
    }
  }
}

// --- organisations ------------------------------------------------------------------------------

interface NodeOrgs {
  spec: NodeSpec;
  orgs: OrganisationRecord[];
  weights: Weighted;
}

function generateOrganisations(seed: number | string, spec: NodeSpec): NodeOrgs {
  const rng = new Rng(seed, `orgs:${spec.id}`);
  const countries = Object.entries(spec.countries);
  const countryW = new Weighted(countries.map(([, w]) => w));
  const sectors = Object.entries(spec.sectors ?? CERT_SECTOR_WEIGHTS) as [SectorId, number][];
  const sectorW = new Weighted(sectors.map(([, w]) => w));
  const ids = new Set<string>();
  const orgs: OrganisationRecord[] = [];
  for (let i = 0; i < spec.organisations; i++) {
    let id: string;
    do id = `org-${rng.hex(6)}`;
    while (ids.has(id));
    ids.add(id);
    orgs.push({ id, sector: sectors[sectorW.sample(rng)]![0], country: countries[countryW.sample(rng)]![0] });
  }
  // Zipf over a random ranking: which organisation is "big" is independent of its country and sector.
  const zipf = zipfWeights(orgs.length, spec.zipf ?? 1, 1);
  const ranks = rng.shuffled(orgs.map((_, i) => i));
  const w = new Array<number>(orgs.length);
  ranks.forEach((orgIdx, r) => (w[orgIdx] = zipf[r]!));
  return { spec, orgs, weights: new Weighted(w) };
}

// --- planted campaigns --------------------------------------------------------------------------

interface Plan {
  campaigns: PlantedCampaign[];
  incidents: Map<string, IncidentRecord[]>; // node id → planted incidents (ids assigned later)
  excludedCves: Set<string>;
  excludedIndicators: Set<string>;
}

/** Pick up to k distinct organisations, from at most 2 countries, preferring countries not used yet. */
function pickOrgs(rng: Rng, candidates: OrganisationRecord[], k: number, used: Set<string>): OrganisationRecord[] {
  const byCountry = new Map<string, OrganisationRecord[]>();
  for (const o of candidates) {
    let l = byCountry.get(o.country);
    if (!l) byCountry.set(o.country, (l = []));
    l.push(o);
  }
  // Up to two countries, drawn in proportion to their candidate organisations, unused countries first.
  const countries: string[] = [];
  for (const fresh of [true, false]) {
    const keys = [...byCountry.keys()].sort().filter((c) => used.has(c) !== fresh);
    while (countries.length < 2 && keys.length > 0) {
      const i = new Weighted(keys.map((c) => byCountry.get(c)!.length)).sample(rng);
      countries.push(keys.splice(i, 1)[0]!);
    }
  }
  const chosen = countries.map((c) => rng.shuffled(byCountry.get(c)!));
  const out: OrganisationRecord[] = [];
  for (let round = 0; out.length < k; round++) {
    let added = false;
    for (const l of chosen) {
      if (out.length < k && round < l.length) {
        out.push(l[round]!);
        added = true;
      }
    }
    if (!added) break;
  }
  for (const o of out) used.add(o.country);
  return out;
}

function mondaysBetween(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let d = lo; d <= hi; d++) if (new Date(d * DAY_MS).getUTCDay() === 1) out.push(d);
  return out;
}

function summarise(c: Omit<PlantedCampaign, 'nodes' | 'countries' | 'incidents' | 'organisations' | 'byNode' | 'byCountry'>, perNode: Map<string, IncidentRecord[]>): PlantedCampaign {
  const byNode: Record<string, number> = {};
  const byCountry: Record<string, number> = {};
  let orgs = 0;
  let total = 0;
  for (const [node, list] of perNode) {
    if (list.length === 0) continue;
    byNode[node] = list.length;
    total += list.length;
    orgs += new Set(list.map((i) => i.organisation)).size;
    for (const i of list) byCountry[i.country] = (byCountry[i.country] ?? 0) + 1;
  }
  return {
    ...c,
    nodes: Object.keys(byNode),
    countries: Object.keys(byCountry).sort(),
    incidents: total,
    organisations: orgs,
    byNode,
    byCountry,
  };
}

function plan(ctxSeed: number | string, from: number, to: number, nodeOrgs: NodeOrgs[]): Plan {
  const rng = new Rng(ctxSeed, 'planted');
  const out: Plan = { campaigns: [], incidents: new Map(), excludedCves: new Set(), excludedIndicators: new Set() };
  const add = (node: string, inc: IncidentRecord) => {
    let l = out.incidents.get(node);
    if (!l) out.incidents.set(node, (l = []));
    l.push(inc);
  };
  const netLast = () => `${rng.range(1, 254)}`;

  // 1. A KEV CVE exploited against energy operators across nodes within one ISO fortnight.
  {
    const lo = Math.min(from + 7, to);
    const hi = Math.max(lo, to - 20);
    const mondays = mondaysBetween(lo, hi);
    const start = mondays.length > 0 ? rng.pick(mondays) : from;
    const end = Math.min(start + 13, to);
    const kev = KEV.map((e) => ({ e, d: dayOf(estimatedDisclosure(e)) }));
    const startIso = isoOf(start);
    const recentEdge = kev.filter(
      (x) => x.d <= start - 14 && x.d >= start - 540 && x.e.dateAdded <= startIso && EDGE_VENDORS.has(x.e.vendorProject),
    );
    const anyBefore = kev.filter((x) => x.d <= start - 14);
    const pool = recentEdge.length > 0 ? recentEdge : anyBefore;
    const energyNodes = nodeOrgs.filter((n) => n.orgs.some((o) => o.sector === 'energy'));
    if (pool.length > 0 && energyNodes.length > 0) {
      pool.sort((a, b) => (a.e.cveID < b.e.cveID ? -1 : 1));
      const cve = rng.pick(pool).e;
      const actorNames = ENERGY_CAMPAIGN_ACTORS.filter((n) => actorByName(n)?.name === n);
      const actor = actorNames.length > 0 ? rng.pick(actorNames) : undefined;
      const ip: IndicatorRecord = { type: 'ipv4-addr', value: `203.0.113.${netLast()}` };
      const domain: IndicatorRecord = { type: 'domain-name', value: `${rng.pick(DOMAIN_A)}-${rng.pick(DOMAIN_B)}-${rng.hex(2)}.example` };
      const nodes = rng.shuffled(energyNodes).slice(0, 5);
      nodes.sort((a, b) => nodeOrgs.indexOf(a) - nodeOrgs.indexOf(b));
      const used = new Set<string>();
      const perNode = new Map<string, IncidentRecord[]>();
      for (const n of nodes) {
        const orgs = pickOrgs(rng, n.orgs.filter((o) => o.sector === 'energy'), rng.range(4, 6), used);
        const list: IncidentRecord[] = orgs.map((o) => {
          const severity = rng.pick([3, 4, 4, 5, 5]);
          const exploits = [cve.cveID];
          if (rng.chance(0.5)) exploits.push('tool:Cobalt Strike');
          const indicators: IndicatorRecord[] = [{ ...ip }];
          if (rng.chance(0.6)) indicators.push({ ...domain });
          if (rng.chance(0.4)) indicators.push({ type: 'file:sha256', value: rng.hex(32) });
          return {
            id: '',
            date: isoOf(rng.range(start, end)),
            country: o.country,
            sector: o.sector,
            severity,
            disruption: rng.chance(0.5),
            tlp: rng.pick<TlpLevel>(['AMBER', 'AMBER', 'AMBER', 'GREEN', 'GREEN', 'AMBER+STRICT', 'RED']),
            organisation: o.id,
            exploits,
            actors: [actor && rng.chance(0.6) ? `actor:${actor}` : 'actor:unknown'],
            indicators,
          };
        });
        perNode.set(n.spec.id, list);
        for (const i of list) add(n.spec.id, i);
      }
      out.excludedCves.add(cve.cveID);
      out.excludedIndicators.add(ip.value).add(domain.value);
      out.campaigns.push(
        summarise(
          {
            id: 'campaign-kev-energy',
            kind: 'exploit',
            description: `${cve.cveID} (${cve.vendorProject} ${cve.product}) exploited against energy operators across several nodes within one fortnight`,
            exploitId: cve.cveID,
            cve: cve.cveID,
            sector: 'energy',
            ...(actor ? { actor } : {}),
            indicators: [ip, domain],
            window: { from: isoOf(start), to: isoOf(end) },
          },
          perNode,
        ),
      );
    }
  }

  // 2. A rarely seen OT tool in several countries and nodes within one calendar month.
  {
    const months: [number, number][] = [];
    for (let d = from; d <= to; d++) {
      const iso = isoOf(d);
      if (iso.endsWith('-01')) {
        const next = new Date(d * DAY_MS);
        next.setUTCMonth(next.getUTCMonth() + 1);
        const last = Math.floor(next.getTime() / DAY_MS) - 1;
        if (last <= to) months.push([d, last]);
      }
    }
    const [start, end] = months.length > 0 ? rng.pick(months) : [from, Math.min(from + 29, to)];
    const tool = rng.pick(CAMPAIGN_TOOLS);
    const ip: IndicatorRecord = { type: 'ipv4-addr', value: `198.51.100.${netLast()}` };
    const nodes = rng.shuffled(nodeOrgs).slice(0, 6);
    nodes.sort((a, b) => nodeOrgs.indexOf(a) - nodeOrgs.indexOf(b));
    const used = new Set<string>();
    const perNode = new Map<string, IncidentRecord[]>();
    for (const n of nodes) {
      const orgs = pickOrgs(rng, n.orgs, rng.range(3, 5), used);
      const list: IncidentRecord[] = orgs.map((o) => {
        const severity = rng.pick([2, 3, 3, 4, 5]);
        const exploits = [`tool:${tool}`];
        if (rng.chance(0.3)) exploits.push('tool:Mimikatz');
        return {
          id: '',
          date: isoOf(rng.range(start, end)),
          country: o.country,
          sector: o.sector,
          severity,
          disruption: rng.chance(DISRUPTION_P[severity - 1]! + 0.1),
          tlp: rng.pick<TlpLevel>(['GREEN', 'GREEN', 'AMBER', 'AMBER', 'CLEAR']),
          organisation: o.id,
          exploits,
          actors: ['actor:unknown'],
          indicators: rng.chance(0.7) ? [{ ...ip }] : [],
        };
      });
      perNode.set(n.spec.id, list);
      for (const i of list) add(n.spec.id, i);
    }
    out.excludedIndicators.add(ip.value);
    out.campaigns.push(
      summarise(
        {
          id: 'campaign-ot-tool',
          kind: 'tool',
          description: `${tool} seen in several countries and nodes within one month`,
          exploitId: `tool:${tool}`,
          tool,
          indicators: [ip],
          window: { from: isoOf(start), to: isoOf(end) },
        },
        perNode,
      ),
    );
  }
  return out;
}

// --- context ------------------------------------------------------------------------------------

function buildContext(seed: number | string, from: number, to: number, excludedCves: Set<string>, excludedIndicators: Set<string>): Context {
  const rng = new Rng(seed, 'public');
  const windowDays: string[] = [];
  const dw: number[] = [];
  for (let d = from; d <= to; d++) {
    windowDays.push(isoOf(d));
    const wd = new Date(d * DAY_MS).getUTCDay();
    dw.push(wd === 0 || wd === 6 ? 0.45 : 1);
  }
  const cves = buildCveTable(rng, excludedCves);
  const cveByExploit = new Map(KEV.map((e) => [e.cveID, e]));
  const disclosureOf = new Map(cves.entries.map((e, i) => [e.cveID, cves.discIso[i]!]));
  const actors = actorChoices(rng);
  const actorBySector = new Map<string, Weighted>();
  for (const s of SECTOR_IDS) actorBySector.set(s, new Weighted(actors.map((a) => a.weight * (a.sectors.includes(s) ? 3 : 1))));
  const ips: string[] = [];
  for (const net of DOC_NETS) for (let i = 1; i < 255; i++) ips.push(`${net}.${i}`);
  const domains: string[] = [];
  for (let i = 0; i < 3000; i++) domains.push(`${rng.pick(DOMAIN_A)}${rng.pick(DOMAIN_B)}${rng.range(1, 999)}.example`);
  const hashes: string[] = [];
  for (let i = 0; i < 2000; i++) hashes.push(rng.hex(32));
  return {
    seed,
    windowDays,
    firstDay: from,
    dayWeights: new Weighted(dw),
    cves,
    cveByExploit,
    disclosureOf,
    tools: new Weighted(PUBLIC_TOOLS.map(([, w]) => w)),
    actors,
    actorBySector,
    ips: pool(rng, ips, excludedIndicators),
    domains: pool(rng, [...new Set(domains)], excludedIndicators),
    hashes: pool(rng, hashes, excludedIndicators, 0.9),
    severity: new Weighted([40, 30, 17, 9, 4]),
    tlpLow: new Weighted([8, 47, 38, 5, 2]),
    tlpHigh: new Weighted([3, 30, 47, 13, 7]),
  };
}

// --- background incidents -----------------------------------------------------------------------

function pickCve(ctx: Context, rng: Rng, day: number): string | undefined {
  const t = ctx.cves;
  const r = rng.float();
  let idx = -1;
  if (r < 0.015) {
    idx = sampleRange(t.weights, rng, upperBound(t.discDay, day - 1), upperBound(t.discDay, day + 45)); // zero-day
  } else if (r < 0.265) {
    idx = sampleRange(t.weights, rng, upperBound(t.discDay, day - 91), upperBound(t.discDay, day)); // recent n-day
  }
  if (idx < 0) idx = t.weights.samplePrefix(rng, upperBound(t.discDay, day));
  return idx < 0 ? undefined : t.entries[idx]!.cveID;
}

function pickIndicator(ctx: Context, rng: Rng): IndicatorRecord {
  const r = rng.float();
  if (r < 0.45) return { type: 'ipv4-addr', value: ctx.ips.values[ctx.ips.weights.sample(rng)]! };
  if (r < 0.75) return { type: 'domain-name', value: ctx.domains.values[ctx.domains.weights.sample(rng)]! };
  if (rng.chance(0.3)) return { type: 'file:sha256', value: ctx.hashes.values[ctx.hashes.weights.sample(rng)]! };
  return { type: 'file:sha256', value: rng.hex(32) };
}

const EXPLOIT_COUNT = new Weighted([30, 45, 20, 5]);
const INDICATOR_COUNT = new Weighted([25, 30, 25, 15, 5]);

function backgroundIncident(ctx: Context, rng: Rng, orgs: NodeOrgs): IncidentRecord {
  const org = orgs.orgs[orgs.weights.sample(rng)]!;
  const dayIdx = ctx.dayWeights.sample(rng);
  const day = ctx.firstDay + dayIdx;
  const severity = ctx.severity.sample(rng) + 1;
  const exploits: string[] = [];
  const nExploits = EXPLOIT_COUNT.sample(rng);
  for (let k = 0; k < nExploits; k++) {
    let id: string | undefined;
    if (rng.chance(0.55)) id = pickCve(ctx, rng, day);
    if (id === undefined) id = `tool:${PUBLIC_TOOLS[ctx.tools.sample(rng)]![0]}`;
    if (!exploits.includes(id)) exploits.push(id);
  }
  const actor = rng.chance(0.3) ? `actor:${ctx.actors[ctx.actorBySector.get(org.sector)!.sample(rng)]!.name}` : 'actor:unknown';
  const indicators: IndicatorRecord[] = [];
  const nInd = INDICATOR_COUNT.sample(rng);
  for (let k = 0; k < nInd; k++) {
    const ind = pickIndicator(ctx, rng);
    if (!indicators.some((x) => x.value === ind.value)) indicators.push(ind);
  }
  return {
    id: '',
    date: ctx.windowDays[dayIdx]!,
    country: org.country,
    sector: org.sector,
    severity,
    disruption: rng.chance(DISRUPTION_P[severity - 1]!),
    tlp: TLP_ORDER[(severity >= 4 ? ctx.tlpHigh : ctx.tlpLow).sample(rng)]!,
    organisation: org.id,
    exploits,
    actors: [actor],
    indicators,
  };
}

function generateNode(
  ctx: Context,
  orgs: NodeOrgs,
  total: number,
  planted: IncidentRecord[],
  localNames: string[],
): NodeDataset {
  const rng = new Rng(ctx.seed, `incidents:${orgs.spec.id}`);
  const background = Math.max(0, total - planted.length);
  const incidents: IncidentRecord[] = new Array(background);
  for (let i = 0; i < background; i++) incidents[i] = backgroundIncident(ctx, rng, orgs);
  // Node-local families: each in 1–3 background incidents.
  if (background > 0) {
    for (const name of localNames) {
      const uses = rng.range(1, 3);
      for (let k = 0; k < uses; k++) {
        const inc = incidents[rng.int(background)]!;
        const id = `tool:${name}`;
        if (!inc.exploits.includes(id)) inc.exploits.push(id);
      }
    }
  }
  for (const p of planted) incidents.push({ ...p, exploits: [...p.exploits], actors: [...p.actors], indicators: p.indicators.map((x) => ({ ...x })) });
  incidents.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const width = Math.max(6, String(incidents.length).length);
  incidents.forEach((inc, i) => (inc.id = `inc-${orgs.spec.id}-${String(i + 1).padStart(width, '0')}`));

  // Records for every exploit and actor referenced.
  const exploitIds = new Map<string, boolean>(); // id → zero-day seen
  const actorIds = new Set<string>();
  for (const inc of incidents) {
    for (const e of inc.exploits) {
      const disclosed = ctx.disclosureOf.get(e);
      const zeroDay = disclosed !== undefined && inc.date <= disclosed;
      exploitIds.set(e, (exploitIds.get(e) ?? false) || zeroDay);
    }
    for (const a of inc.actors) actorIds.add(a);
  }
  const exploits: ExploitRecord[] = [...exploitIds.keys()].sort().map((id) => {
    const kev = ctx.cveByExploit.get(id);
    if (kev) {
      return { id, cve: id, name: kev.vulnerabilityName, kind: exploitIds.get(id) ? 'zero-day' : 'n-day', disclosed: ctx.disclosureOf.get(id)! };
    }
    return { id, name: id.slice('tool:'.length), kind: 'tool' };
  });
  const actors: ActorRecord[] = [...actorIds].sort().map((id) => {
    if (id === 'actor:unknown') return { id, name: 'unknown', catalogued: false };
    const a = actorByName(id.slice('actor:'.length))!;
    return { id, name: a.name, catalogued: true, ...(a.country ? { country: a.country } : {}) };
  });
  return { organisations: orgs.orgs, exploits, actors, incidents };
}

/**
 * Generate a synthetic federation. Deterministic: the same options give identical output.
 * Each node's dataset has exactly `incidents` (or `incidentsPerNode`) incidents, planted ones included,
 * unless the planted ones alone exceed it. Throws `AccordError('CONFIG_INVALID')` for malformed options
 * (bad dates, unknown countries or sectors, duplicate node ids, out-of-range counts).
 */
export function generateFederation(opts: FederationOptions): Federation {
  const nodes = opts.nodes ?? DEMO_NODES;
  const fromIso = opts.from ?? DEFAULT_FROM;
  const toIso = opts.to ?? DEFAULT_TO;
  validate(opts, nodes, fromIso, toIso);
  const from = dayOf(fromIso);
  const to = dayOf(toIso);
  const nodeOrgs = nodes.map((n) => generateOrganisations(opts.seed, n));
  const planned: Plan =
    opts.plantCampaigns === false
      ? { campaigns: [], incidents: new Map(), excludedCves: new Set(), excludedIndicators: new Set() }
      : plan(opts.seed, from, to, nodeOrgs);
  const ctx = buildContext(opts.seed, from, to, planned.excludedCves, planned.excludedIndicators);

  const taken = new Set<string>([...PUBLIC_TOOLS.map(([n]) => n.toLowerCase()), ...CAMPAIGN_TOOLS.map((n) => n.toLowerCase())]);
  const localTools: Record<string, string[]> = {};
  for (const n of nodes) {
    const rng = new Rng(opts.seed, `local-tools:${n.id}`);
    const names: string[] = [];
    const want = n.localTools ?? 8;
    for (let tries = 0; names.length < want && tries < want * 50; tries++) {
      const name = localFamilyName(rng);
      if (taken.has(name.toLowerCase())) continue;
      taken.add(name.toLowerCase());
      names.push(name);
    }
    localTools[n.id] = names;
  }

  const datasets: Record<string, NodeDataset> = {};
  for (const o of nodeOrgs) {
    const total = o.spec.incidents ?? opts.incidentsPerNode;
    const planted = planned.incidents.get(o.spec.id) ?? [];
    const names = total - planted.length > 0 ? localTools[o.spec.id]! : [];
    localTools[o.spec.id] = names;
    datasets[o.spec.id] = generateNode(ctx, o, total, planted, names);
  }
  return { datasets, planted: planned.campaigns, localTools };
}
