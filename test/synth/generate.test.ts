import { describe, expect, it } from 'vitest';
import { isAccordError } from '../../schema/errors.js';
import { datasetReferenceProblems, isKevCve, kevByCve } from '../../schema/reference/index.js';
import type { NodeDataset } from '../../schema/contract/dataset.js';
import {
  DEMO_NODES,
  estimatedDisclosure,
  federationNodes,
  generateFederation,
  type Federation,
  type NodeSpec,
} from '../../scripts/synth/index.js';
import { PUBLIC_TOOLS, CAMPAIGN_TOOLS } from '../../scripts/synth/vocab.js';

const FROM = '2024-01-01';
const TO = '2024-12-31';

const cache = new Map<string, Federation>();
function fed(seed: number | string, incidentsPerNode = 20_000): Federation {
  const key = `${seed}/${incidentsPerNode}`;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = generateFederation({ seed, nodes: DEMO_NODES, incidentsPerNode, from: FROM, to: TO })));
  return f;
}

function countBy<T>(xs: Iterable<T>, key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

function exploitUses(ds: NodeDataset, exploitId: string) {
  return ds.incidents.filter((i) => i.exploits.includes(exploitId));
}

describe('generateFederation: determinism', () => {
  it('gives identical output for the same seed and different output for another seed', () => {
    const a = generateFederation({ seed: 11, nodes: DEMO_NODES, incidentsPerNode: 3000, from: FROM, to: TO });
    const b = generateFederation({ seed: 11, nodes: DEMO_NODES, incidentsPerNode: 3000, from: FROM, to: TO });
    const c = generateFederation({ seed: 12, nodes: DEMO_NODES, incidentsPerNode: 3000, from: FROM, to: TO });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    const orgsA = new Set(a.datasets['cert-de']!.organisations.map((o) => o.id));
    const shared = c.datasets['cert-de']!.organisations.filter((o) => orgsA.has(o.id)).length;
    expect(shared).toBeLessThan(5);
    expect(a.datasets['cert-de']!.incidents.map((i) => i.date)).not.toEqual(c.datasets['cert-de']!.incidents.map((i) => i.date));
  });

  it('treats numeric and string seeds alike and survives a JSON round trip unchanged', () => {
    const a = generateFederation({ seed: 5, incidentsPerNode: 500 });
    const b = generateFederation({ seed: '5', incidentsPerNode: 500 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    for (const ds of Object.values(a.datasets)) expect(JSON.parse(JSON.stringify(ds))).toEqual(ds);
  });
});

describe('generateFederation: validity against the reference data', () => {
  it('produces only valid records, within each node’s scope and the window', () => {
    const f = fed(1);
    for (const spec of DEMO_NODES) {
      const ds = f.datasets[spec.id]!;
      expect(ds.incidents).toHaveLength(20_000);
      expect(ds.organisations).toHaveLength(spec.organisations);
      expect(datasetReferenceProblems(ds)).toEqual([]);
      const sectors = new Set(Object.keys(spec.sectors ?? {}));
      for (const o of ds.organisations) {
        expect(o.id).toMatch(/^org-[0-9a-f]{12}$/);
        expect(Object.keys(spec.countries)).toContain(o.country);
        if (sectors.size > 0) expect(sectors.has(o.sector)).toBe(true);
      }
      const orgById = new Map(ds.organisations.map((o) => [o.id, o]));
      for (const i of ds.incidents) {
        expect(i.date >= FROM && i.date <= TO).toBe(true);
        const o = orgById.get(i.organisation)!;
        expect([i.country, i.sector]).toEqual([o.country, o.sector]);
        expect(i.actors).toHaveLength(1);
        for (const x of i.indicators) {
          if (x.type === 'ipv4-addr') expect(x.value).toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\.(\d{1,3})$/);
          else if (x.type === 'domain-name') expect(x.value).toMatch(/^[a-z0-9-]+\.example$/);
          else if (x.type === 'file:sha256') expect(x.value).toMatch(/^[0-9a-f]{64}$/);
          else throw new Error(`unexpected indicator type ${x.type}`);
        }
      }
      for (const e of ds.exploits) {
        if (e.cve !== undefined) {
          expect(isKevCve(e.cve)).toBe(true);
          expect(e.id).toBe(e.cve);
          expect(e.disclosed! <= kevByCve(e.cve)!.dateAdded).toBe(true);
          expect(e.disclosed! >= `${e.cve.slice(4, 8)}-01-01`).toBe(true);
        } else {
          expect(e.kind).toBe('tool');
          expect(e.id).toBe(`tool:${e.name}`);
        }
      }
      const catalogued = ds.actors.filter((a) => a.catalogued);
      expect(catalogued.length).toBeGreaterThan(20);
      expect(ds.actors.find((a) => a.id === 'actor:unknown')).toEqual({ id: 'actor:unknown', name: 'unknown', catalogued: false });
    }
  });

  it('marks exactly the CVEs used on or before disclosure as zero-days, and they are rare', () => {
    const ds = fed(1).datasets['cert-de']!;
    const uses = new Map<string, string[]>();
    for (const i of ds.incidents) for (const e of i.exploits) uses.set(e, [...(uses.get(e) ?? []), i.date]);
    let zeroDayUses = 0;
    let cveUses = 0;
    for (const e of ds.exploits) {
      if (!e.cve) continue;
      const dates = uses.get(e.id)!;
      const early = dates.filter((d) => d <= e.disclosed!).length;
      expect(e.kind).toBe(early > 0 ? 'zero-day' : 'n-day');
      zeroDayUses += early;
      cveUses += dates.length;
    }
    expect(zeroDayUses).toBeGreaterThan(0);
    expect(zeroDayUses / cveUses).toBeLessThan(0.05);
  });

  it('estimates disclosure dates deterministically from the KEV entry', () => {
    const log4shell = kevByCve('CVE-2021-44228')!;
    const d = estimatedDisclosure(log4shell);
    expect(d).toBe(estimatedDisclosure(log4shell));
    expect(d <= log4shell.dateAdded && d >= '2021-01-01').toBe(true);
  });
});

describe('generateFederation: real-world shape', () => {
  it('skews incidents towards a few organisations (top 10 % hold over half)', () => {
    for (const [id, ds] of Object.entries(fed(1).datasets)) {
      const perOrg = [...countBy(ds.incidents, (i) => i.organisation).values()].sort((a, b) => b - a);
      const top = perOrg.slice(0, Math.ceil(ds.organisations.length / 10)).reduce((a, b) => a + b, 0);
      expect(top / ds.incidents.length, id).toBeGreaterThan(0.5);
      expect(perOrg[0]! / ds.incidents.length, id).toBeGreaterThan(0.03);
    }
  });

  it('skews severity low, disrupts more at high severity, and uses TLP mostly GREEN/AMBER', () => {
    const ds = fed(1).datasets['cert-fr']!;
    const sev = countBy(ds.incidents, (i) => String(i.severity));
    for (let s = 1; s < 5; s++) expect(sev.get(String(s))!).toBeGreaterThan(sev.get(String(s + 1))!);
    const rate = (s: number) => {
      const xs = ds.incidents.filter((i) => i.severity === s);
      return xs.filter((i) => i.disruption).length / xs.length;
    };
    expect(rate(5)).toBeGreaterThan(rate(3));
    expect(rate(3)).toBeGreaterThan(rate(1));
    const tlp = countBy(ds.incidents, (i) => i.tlp);
    const n = ds.incidents.length;
    expect((tlp.get('GREEN')! + tlp.get('AMBER')!) / n).toBeGreaterThan(0.75);
    expect(tlp.get('CLEAR')! / n).toBeGreaterThan(0.03);
    expect(tlp.get('RED')! / n).toBeLessThan(0.05);
    expect(tlp.get('AMBER+STRICT')! / n).toBeLessThan(0.1);
  });

  it('has node-local family names that occur only 1–3 times and only in their node', () => {
    const f = fed(1);
    const publicNames = new Set([...PUBLIC_TOOLS.map(([n]) => n), ...CAMPAIGN_TOOLS]);
    for (const [node, names] of Object.entries(f.localTools)) {
      expect(names.length).toBeGreaterThanOrEqual(5);
      for (const name of names) {
        expect(publicNames.has(name)).toBe(false);
        for (const [other, ds] of Object.entries(f.datasets)) {
          const n = exploitUses(ds, `tool:${name}`).length;
          if (other === node) {
            expect(n).toBeGreaterThanOrEqual(1);
            expect(n).toBeLessThanOrEqual(3);
          } else {
            expect(n).toBe(0);
          }
        }
      }
    }
  });

  it('uses public tool names far more often than local ones', () => {
    const ds = fed(1).datasets['cert-de']!;
    expect(exploitUses(ds, 'tool:Cobalt Strike').length).toBeGreaterThan(500);
    expect(exploitUses(ds, 'tool:Mimikatz').length).toBeGreaterThan(300);
  });
});

describe('generateFederation: planted cross-border campaigns', () => {
  for (const seed of [1, 2, 3, 'demo']) {
    it(`emerge only across nodes (seed ${seed})`, () => {
      const f = fed(seed);
      expect(f.planted.map((p) => p.id)).toEqual(['campaign-kev-energy', 'campaign-ot-tool']);
      for (const p of f.planted) {
        expect(p.nodes.length).toBeGreaterThanOrEqual(3);
        expect(p.countries.length).toBeGreaterThanOrEqual(3);
        let total = 0;
        const countries = new Map<string, number>();
        for (const [node, ds] of Object.entries(f.datasets)) {
          const uses = exploitUses(ds, p.exploitId);
          // the ground truth matches the data, and nothing outside the campaign uses its exploit
          expect(uses.length).toBe(p.byNode[node] ?? 0);
          expect(uses.length, `${p.id} in ${node}`).toBeLessThanOrEqual(6);
          expect(new Set(uses.map((i) => i.organisation)).size).toBe(uses.length);
          for (const i of uses) {
            expect(i.date >= p.window.from && i.date <= p.window.to).toBe(true);
            if (p.sector) expect(i.sector).toBe(p.sector);
            countries.set(i.country, (countries.get(i.country) ?? 0) + 1);
          }
          // the campaign's indicators occur in no other incident
          for (const ind of p.indicators) {
            for (const i of ds.incidents) {
              if (i.indicators.some((x) => x.value === ind.value)) expect(i.exploits).toContain(p.exploitId);
            }
          }
          total += uses.length;
        }
        expect(total).toBe(p.incidents);
        expect(Object.fromEntries(countries)).toEqual(p.byCountry);
        expect(total).toBeGreaterThanOrEqual(p.kind === 'exploit' ? 12 : 9);
      }
      const kev = f.planted[0]!;
      expect(isKevCve(kev.cve!)).toBe(true);
      expect(kev.sector).toBe('energy');
      const days = (Date.parse(kev.window.to) - Date.parse(kev.window.from)) / 86_400_000;
      expect(days).toBe(13);
      expect(new Date(`${kev.window.from}T00:00:00Z`).getUTCDay()).toBe(1);
      const tool = f.planted[1]!;
      expect(tool.window.from.endsWith('-01')).toBe(true);
      expect(tool.window.from.slice(0, 7)).toBe(tool.window.to.slice(0, 7));
    });
  }

  it('can be switched off', () => {
    const f = generateFederation({ seed: 1, incidentsPerNode: 1000, plantCampaigns: false });
    expect(f.planted).toEqual([]);
  });
});

describe('generateFederation: options', () => {
  const bad: [string, Parameters<typeof generateFederation>[0]][] = [
    ['negative count', { seed: 1, incidentsPerNode: -1 }],
    ['fractional count', { seed: 1, incidentsPerNode: 1.5 }],
    ['bad date', { seed: 1, incidentsPerNode: 10, from: '2024-02-30' }],
    ['reversed window', { seed: 1, incidentsPerNode: 10, from: '2024-05-01', to: '2024-04-01' }],
    ['no nodes', { seed: 1, incidentsPerNode: 10, nodes: [] }],
    ['duplicate node', { seed: 1, incidentsPerNode: 10, nodes: [DEMO_NODES[0]!, DEMO_NODES[0]!] }],
    ['unknown country', { seed: 1, incidentsPerNode: 10, nodes: [{ ...DEMO_NODES[0]!, countries: { XK: 1 } }] }],
    ['unknown sector', { seed: 1, incidentsPerNode: 10, nodes: [{ ...DEMO_NODES[0]!, sectors: { banking: 1 } } as unknown as NodeSpec] }],
    ['bad node id', { seed: 1, incidentsPerNode: 10, nodes: [{ ...DEMO_NODES[0]!, id: 'CERT DE' }] }],
  ];
  for (const [name, opts] of bad) {
    it(`refuses ${name} with CONFIG_INVALID`, () => {
      let err: unknown;
      try {
        generateFederation(opts);
      } catch (e) {
        err = e;
      }
      expect(isAccordError(err) && err.code).toBe('CONFIG_INVALID');
    });
  }

  it('keeps the planted incidents when the node is smaller than the campaign', () => {
    const f = generateFederation({ seed: 1, incidentsPerNode: 2 });
    for (const [id, ds] of Object.entries(f.datasets)) {
      const planted = f.planted.reduce((a, p) => a + (p.byNode[id] ?? 0), 0);
      expect(ds.incidents).toHaveLength(Math.max(2, planted));
      expect(datasetReferenceProblems(ds)).toEqual([]);
    }
  });

  it('gives ten benchmark nodes with disjoint country scopes for the national CERTs', () => {
    const nodes = federationNodes(10);
    expect(nodes.map((n) => n.id).slice(0, 3)).toEqual(['cert-de', 'cert-fr', 'isac-energy']);
    const certs = nodes.filter((n) => n.kind === 'national-cert');
    const seen = new Set<string>();
    for (const n of certs) for (const c of Object.keys(n.countries)) {
      expect(seen.has(c), c).toBe(false);
      seen.add(c);
    }
    expect(() => federationNodes(0)).toThrow(RangeError);
    const f = generateFederation({ seed: 3, nodes, incidentsPerNode: 500 });
    expect(Object.keys(f.datasets)).toHaveLength(10);
    for (const ds of Object.values(f.datasets)) expect(datasetReferenceProblems(ds)).toEqual([]);
  });
});

describe('generateFederation: performance', () => {
  it('generates 3 nodes × 100k incidents within seconds', () => {
    const t0 = performance.now();
    const f = generateFederation({ seed: 'bench', nodes: DEMO_NODES, incidentsPerNode: 100_000 });
    const ms = performance.now() - t0;
    expect(Object.values(f.datasets).every((d) => d.incidents.length === 100_000)).toBe(true);
    // Measured ~2 s on 2 vCPU; the bound leaves room for a noisy machine.
    expect(ms).toBeLessThan(20_000);
  });
});
