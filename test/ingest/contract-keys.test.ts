/**
 * Node-data keys end to end in memory: what the importers accept (any name, any CVE-shaped id) is
 * either stored as a key the gateway's validation accepts or dropped with a counted reason — never
 * a key that would make the gateway refuse a node's whole contribution (a refusal that depends on
 * one organisation's data).
 *
 * The property tests are seeded (fast-check, fixed `seed`, `numRuns`); on failure fast-check prints
 * the seed and the path of the shrunk counterexample, so a failure is replayed by passing them back.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CVE_ID, MAX_KEY_LENGTH, isContractKey, nameNormalisation, normaliseCve, normaliseKey, normaliseName } from '../../schema/contract/keys.js';
import { ACTORS, KEV } from '../../schema/reference/index.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { validateContribution } from '../../gateway/aggregate/validate.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { m49RegionLookup } from '../../nodes/db/regions.js';
import { SummaryBuilder } from '../../nodes/ingest/model.js';
import { mapStixObject } from '../../nodes/ingest/stix.js';
import { base } from './helpers.js';

const SEED = 20_250_801;
const NUM_RUNS = 400;

describe('the contract rule for node-data keys', () => {
  test('names: control characters and white-space runs become one space, trimmed; cut at the limit on a code-point boundary', () => {
    expect(normaliseName('Black\tCat')).toBe('Black Cat');
    expect(normaliseName('  Cobalt \u0000\u0085 Strike\r\n')).toBe('Cobalt Strike');
    expect(normaliseName('x'.repeat(230))).toBe('x'.repeat(MAX_KEY_LENGTH));
    // a surrogate pair straddling the limit is dropped whole, never split
    const astral = 'x'.repeat(MAX_KEY_LENGTH - 1) + '\u{1F600}tail';
    expect(normaliseName(astral)).toBe('x'.repeat(MAX_KEY_LENGTH - 1));
    expect(normaliseName('a\uD800b')).toBe('a\uFFFDb');
    expect(normaliseName('\u0001\t \u2028')).toBeUndefined();
    expect(nameNormalisation('  plain  ')).toEqual({ key: 'plain', changed: false, cut: false });
    expect(nameNormalisation('a\tb')).toEqual({ key: 'a b', changed: true, cut: false });
    expect(nameNormalisation('y'.repeat(201))).toEqual({ key: 'y'.repeat(200), changed: false, cut: true });
  });

  test('CVE ids: four to seven digits, upper case', () => {
    expect(normaliseCve(' cve-2024-3400 ')).toBe('CVE-2024-3400');
    expect(normaliseCve('CVE-2024-1234567')).toBe('CVE-2024-1234567');
    expect(normaliseCve('CVE-2024-12345678')).toBeUndefined();
    expect(normaliseCve('CVE-2024-123')).toBeUndefined();
    expect(isContractKey('EXPLOIT', 'cve-2024-3400')).toBe(false);
    expect(isContractKey('COUNTRY', 'FR')).toBe(false);
    expect(isContractKey('TOOL', 42)).toBe(false);
  });

  test('every public catalog key is a contract key (KEV CVE ids, catalogued actor names)', () => {
    for (const k of KEV) expect(CVE_ID.test(k.cveID), k.cveID).toBe(true);
    for (const a of ACTORS) expect(isContractKey('ACTOR', a.name), JSON.stringify(a.name)).toBe(true);
  });

  test('normaliseKey is idempotent and its output is a contract key (seeded property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('EXPLOIT', 'TOOL', 'ACTOR' as const), nameLike(), (dim, raw) => {
        const k = normaliseKey(dim, raw);
        if (k !== undefined) {
          expect(isContractKey(dim, k)).toBe(true);
          expect(normaliseKey(dim, k)).toBe(k);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });
});

/** Strings the importers accept as names: any unicode (lone surrogates included), control characters, white space, up to 600 units. */
function nameLike(): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: fc.constantFrom('\t', '\n', '\r', '\u0000', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', ' ', '\uD83D', '\uDE00'), maxLength: 6 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 150, maxLength: 300 }),
  );
  return fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
}

/** CVE-shaped ids the importers accept: any case, surrounding white space, any number of digits. */
function cveLike(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('CVE', 'cve', 'Cve'), fc.integer({ min: 1999, max: 9999 }), fc.stringMatching(/^\d{4,12}$/), fc.constantFrom('', ' ', '\t'))
    .map(([p, y, d, ws]) => `${ws}${p}-${y}-${d}${ws}`);
}

/** The gateway's validation of a one-group contribution keyed `value` under `groupBy: [dim]` (an open position). */
function gatewayAccepts(dim: 'EXPLOIT' | 'TOOL' | 'ACTOR', value: string): boolean {
  const plan = planAggregate({ groupBy: [dim], filter: { from: '2024-01-01', to: '2024-02-01' } }, { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT', maxCells: 5_000 });
  const contribution = { node: 'n1', queryId: plan.queryId, units: 1, groups: [{ key: [value], count: 1, sum: null }] };
  return validateContribution(contribution, { node: 'n1', queryId: plan.queryId, domain: plan.domain, bounds: plan.bounds }).ok;
}

describe('importers: every key is stored in a form the gateway accepts, or dropped and counted (seeded properties)', () => {
  const map = (o: Record<string, unknown>) => {
    const summary = new SummaryBuilder('stix');
    const out = mapStixObject(o, 0, { summary, secret: 'contract-keys-secret', regions: m49RegionLookup });
    return { out, keys: summary.s.keys };
  };

  test('STIX tool and malware names', () => {
    fc.assert(
      fc.property(nameLike().filter((n) => n.trim().length > 0), fc.boolean(), (name, malware) => {
        const { out, keys } = map(base(malware ? 'malware' : 'tool', { name, ...(malware ? { is_family: true } : {}) }));
        if (out.exploit === undefined) expect(keys.droppedNames).toBe(1);
        else expect(gatewayAccepts('TOOL', out.exploit.name)).toBe(true);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  test('STIX threat-actor names', () => {
    fc.assert(
      fc.property(nameLike().filter((n) => n.trim().length > 0), (name) => {
        const { out, keys } = map(base('threat-actor', { name }));
        if (out.actor === undefined) expect(keys.droppedNames).toBe(1);
        else expect(gatewayAccepts('ACTOR', out.actor.name)).toBe(true);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  test('STIX vulnerabilities by CVE id (external reference or name)', () => {
    fc.assert(
      fc.property(cveLike(), fc.boolean(), (cve, asReference) => {
        const o = asReference ? base('vulnerability', { name: 'a vulnerability', external_references: [{ source_name: 'cve', external_id: cve }] }) : base('vulnerability', { name: cve });
        const { out, keys } = map(o);
        if (out.exploit === undefined) expect(keys.droppedCves).toBe(1);
        else expect(gatewayAccepts('EXPLOIT', out.exploit.cve!)).toBe(true);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  test('MISP and CSV names and CVE ids (the shared contractKeys step): kept ones pass, every other is counted', () => {
    fc.assert(
      fc.property(fc.array(nameLike(), { maxLength: 5 }), fc.array(cveLike(), { maxLength: 5 }), (names, cves) => {
        const summary = new SummaryBuilder('csv');
        const tools = summary.contractKeys('TOOL', names);
        const ids = summary.contractKeys('EXPLOIT', cves);
        for (const t of tools) expect(gatewayAccepts('TOOL', t)).toBe(true);
        for (const c of ids) expect(gatewayAccepts('EXPLOIT', c)).toBe(true);
        const k = summary.s.keys;
        expect(k.droppedNames).toBe(names.filter((n) => normaliseName(n) === undefined).length);
        expect(k.droppedCves).toBe(cves.filter((c) => normaliseCve(c) === undefined).length);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  test('the audit case: a 230-character tool name, a tab in a malware name, an 8-digit CVE id', () => {
    const tool = map(base('tool', { name: 'T'.repeat(230) }));
    expect(tool.out.exploit?.name).toBe('T'.repeat(MAX_KEY_LENGTH));
    expect(tool.keys.cut).toBe(1);
    const malware = map(base('malware', { name: 'Black\tCat', is_family: true }));
    expect(malware.out.exploit?.name).toBe('Black Cat');
    expect(malware.keys.normalised).toBe(1);
    const cve = map(base('vulnerability', { name: 'CVE-2024-12345678' }));
    expect(cve.out.exploit).toBeUndefined();
    expect(cve.keys.droppedCves).toBe(1);
  });
});
