/** Deterministic synthetic node datasets for tests (no real data). */
import type { ActorRecord, ExploitRecord, IncidentRecord, NodeDataset, OrganisationRecord, TlpLevel } from '../../../schema/contract/dataset.js';

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). Not for privacy use. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const COUNTRIES = ['DE', 'FR', 'PL', 'US', 'JP', 'BR', 'KE', 'AQ', 'TW'] as const;
export const SECTORS = ['energy', 'healthcare-public-health', 'financial-services', 'transportation', 'water'] as const;
export const TLPS: TlpLevel[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

export const EXPLOITS: ExploitRecord[] = [
  { id: 'CVE-2023-4966', cve: 'CVE-2023-4966', name: 'Citrix Bleed', kind: 'n-day', disclosed: '2023-10-10' },
  { id: 'CVE-2024-3400', cve: 'CVE-2024-3400', name: 'PAN-OS GlobalProtect', kind: 'zero-day', disclosed: '2024-04-12' },
  { id: 'CVE-2021-44228', cve: 'CVE-2021-44228', name: 'Log4Shell', kind: 'n-day', disclosed: '2021-12-10' },
  { id: 'zd-unnamed', name: 'Unnamed zero-day', kind: 'zero-day' },
  { id: 'tool:Cobalt Strike', name: 'Cobalt Strike', kind: 'tool' },
  { id: 'tool:Mimikatz', name: 'Mimikatz', kind: 'tool' },
];

export const ACTORS: ActorRecord[] = [
  { id: 'a-apt28', name: 'APT28', catalogued: true, country: 'RU' },
  { id: 'a-apt1', name: 'APT1', catalogued: true, country: 'CN' },
  { id: 'a-sandworm', name: 'Sandworm', catalogued: true },
  { id: 'a-unknown-1', name: 'unknown', catalogued: false },
  { id: 'a-unknown-2', name: 'unknown', catalogued: false },
];

export interface DatasetOptions {
  organisations: number;
  incidents: number;
  seed?: number;
  /** Probability that an incident's TLP is drawn from all five levels (else CLEAR/GREEN/AMBER). */
  restrictedShare?: number;
  from?: string;
  days?: number;
  indicatorsPerIncident?: number;
  /** Organisation id prefix (distinct datasets seeded into one node must not collide). */
  prefix?: string;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function addDays(date: string, days: number): string {
  const t = new Date(`${date}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

/** A dataset with skewed organisation sizes, several exploits/actors per incident and all TLP levels. */
export function makeDataset(o: DatasetOptions): NodeDataset {
  const r = prng(o.seed ?? 1);
  const prefix = o.prefix ?? 'org';
  const organisations: OrganisationRecord[] = [];
  for (let i = 0; i < o.organisations; i++) {
    organisations.push({ id: `${prefix}-${i.toString(36).padStart(4, '0')}`, sector: pick(r, SECTORS), country: pick(r, COUNTRIES) });
  }
  const incidents: IncidentRecord[] = [];
  const from = o.from ?? '2025-01-01';
  const days = o.days ?? 180;
  const perIncident = o.indicatorsPerIncident ?? 1;
  for (let i = 0; i < o.incidents; i++) {
    // skew: low-index organisations report far more incidents
    const org = organisations[Math.floor(o.organisations * r() ** 2)]!;
    const exploits = EXPLOITS.filter(() => r() < 0.25).map((e) => e.id);
    const actors = ACTORS.filter(() => r() < 0.2).map((a) => a.id);
    const restricted = r() < (o.restrictedShare ?? 0.1);
    incidents.push({
      id: `${prefix}-inc-${i}`,
      date: addDays(from, Math.floor(r() * days)),
      country: r() < 0.8 ? org.country : pick(r, COUNTRIES),
      sector: r() < 0.9 ? org.sector : pick(r, SECTORS),
      severity: 1 + Math.floor(r() * 5),
      disruption: r() < 0.3,
      tlp: restricted ? pick(r, TLPS) : pick(r, TLPS.slice(0, 3)),
      organisation: org.id,
      exploits,
      actors,
      indicators: Array.from({ length: Math.floor(r() * (perIncident + 1)) }, (_, j) =>
        j % 2 === 0 ? { type: 'domain-name', value: `Host${i}-${j}.Example.ORG` } : { type: 'ipv4-addr', value: `10.${i % 250}.${j}.${(i * 7) % 250}` },
      ),
    });
  }
  return { organisations, exploits: EXPLOITS.map((e) => ({ ...e })), actors: ACTORS.map((a) => ({ ...a })), incidents };
}
