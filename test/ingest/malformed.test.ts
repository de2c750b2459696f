/**
 * Malformed STIX input is refused whole with STIX_INVALID naming where the problem is, and the store is
 * unchanged (counts before == counts after), even when valid objects before the bad one were already
 * written in earlier batches of the same transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSource } from '../../nodes/ingest/index.js';
import { sqliteDb, type TestDb } from '../nodes/helpers/db.js';
import { base, bundle, counts, identity, importValue, incident, location, marking, refusal, rel, SECRET, sid, type Obj } from './helpers.js';

let db: TestDb;
let baseline: Record<string, number>;

beforeAll(async () => {
  db = await sqliteDb();
  const org = identity(['energy']);
  const de = location('DE');
  const inc = incident('2025-03-01', { tlp: 'GREEN' });
  await importValue(db.orm, bundle([org, de, rel('located-at', org, de), inc, rel('targets', inc, org)]));
  baseline = await counts(db.orm);
  expect(baseline.incident).toBe(1);
});

afterAll(async () => {
  await db.dispose();
});

/** Valid objects that come before the faulty one (with batch size 2 they are written before the refusal). */
function goodPrefix(): Obj[] {
  const org = identity(['water']);
  const fr = location('FR');
  const inc = incident('2025-04-02');
  return [org, fr, rel('located-at', org, fr), inc, rel('targets', inc, org)];
}

async function expectRefused(input: unknown, expected: { index: number | null; field: string | null; objectId?: string | null; message?: RegExp; position?: boolean }): Promise<void> {
  const e = await refusal(importValue(db.orm, input, 'stix', { batchSize: 2, chunk: 97 }));
  expect(e.code).toBe('STIX_INVALID');
  expect(e.details.index).toBe(expected.index);
  expect(e.details.field).toBe(expected.field);
  if (expected.objectId !== undefined) expect(e.details.objectId).toBe(expected.objectId);
  if (expected.message) expect(e.message).toMatch(expected.message);
  if (expected.position) {
    expect(e.details.offset).toEqual(expect.any(Number));
    expect(e.details.line).toEqual(expect.any(Number));
    expect(e.details.column).toEqual(expect.any(Number));
  }
  expect(e.message).toMatch(/nothing of it was stored/);
  expect(await counts(db.orm)).toEqual(baseline);
}

describe('malformed STIX bundles', () => {
  it('truncated JSON: refused with the byte offset, line and column where the input ends', async () => {
    const text = JSON.stringify(bundle([...goodPrefix(), identity()]), null, 1);
    const cut = text.slice(0, text.length - 40);
    await expectRefused(cut, { index: 5, field: null, message: /truncated/, position: true });
    const e = await refusal(importValue(db.orm, cut, 'stix'));
    expect(e.details.offset).toBe(Buffer.byteLength(cut));
    expect(e.details.line).toBe(cut.split('\n').length);
  });

  it('malformed JSON inside an object: refused at the position of the syntax error', async () => {
    const good = JSON.stringify(bundle(goodPrefix()));
    const broken = good.replace(/\]\}$/, ',{"type": "identity", "id": , "name": "x"}]}');
    const at = broken.indexOf('"id": ,') + '"id": '.length;
    const e = await refusal(importValue(db.orm, broken, 'stix', { batchSize: 2, chunk: 64 }));
    expect(e.code).toBe('STIX_INVALID');
    expect(e.details.index).toBe(5);
    expect(e.details.offset).toBe(at);
    expect(e.details.line).toBe(1);
    expect(e.details.column).toBe(at + 1);
    expect(await counts(db.orm)).toEqual(baseline);
  });

  it('a document that is not a bundle: refused naming the bundle field', async () => {
    await expectRefused({ type: 'report', id: sid('report'), objects: [] }, { index: null, field: 'type' });
    await expectRefused([identity()], { index: null, field: null, message: /not a JSON object/ });
  });

  it('an object whose type does not match its id, or is not a type name: refused naming index, id and field', async () => {
    const wrong = { ...identity(), type: 'indicator' };
    await expectRefused(bundle([...goodPrefix(), wrong]), { index: 5, field: 'type', objectId: wrong.id as string, message: /names type "identity"/ });
    const numeric = { ...identity(), type: 42 };
    await expectRefused(bundle([...goodPrefix(), numeric]), { index: 5, field: 'type', objectId: numeric.id as string });
  });

  it('a bad timestamp (month 101, as in the OASIS TLP 2.0 green example): refused naming the field', async () => {
    const r = rel('attributed-to', sid('threat-actor'), sid('identity'), { created: '2022-101-27T13:49:54.326Z', object_marking_refs: marking('GREEN') });
    await expectRefused(bundle([...goodPrefix(), r]), { index: 5, field: 'created', objectId: r.id as string, message: /RFC 3339/ });
    const feb30 = { ...identity(), modified: '2025-02-30T00:00:00Z' };
    await expectRefused(bundle([feb30]), { index: 0, field: 'modified' });
  });

  it('a marking definition that is neither TLP nor defined anywhere: refused naming the object and field', async () => {
    const unknown = `marking-definition--${'0e9b2c4a-1d2f-4c6e-8a9b-7c5d3e1f2a4b'}`;
    const marked = { ...identity(), object_marking_refs: [unknown] };
    await expectRefused(bundle([...goodPrefix(), marked]), { index: 5, field: 'object_marking_refs', objectId: marked.id as string, message: /defined neither in the bundle nor on this node/ });
    const granular = { ...identity(), granular_markings: [{ marking_ref: unknown, selectors: ['name'] }] };
    await expectRefused(bundle([granular]), { index: 0, field: 'granular_markings' });
  });

  it('a pattern that is not STIX patterning: refused naming the pattern field and where it stops', async () => {
    for (const pattern of ["ipv4-addr:value = '198.51.100.1'", "[ipv4-addr:value = '198.51.100.1'", "[ipv4-addr:value == 198.51.100.1]", 'rule x { condition: true }', "[file:hashes.'SHA-256' = 'ab' AND]"]) {
      const ind = base('indicator', { pattern, pattern_type: 'stix', valid_from: '2025-01-01T00:00:00Z' });
      await expectRefused(bundle([...goodPrefix(), ind]), { index: 5, field: 'pattern', objectId: ind.id as string, message: /is not STIX patterning .* at character \d+/ });
    }
  });

  it('a 100 MB string field (streamed, never held in memory): refused at the string limit', async () => {
    let produced = 0;
    async function* huge(): AsyncGenerator<Buffer> {
      const head = JSON.stringify(bundle(goodPrefix())).replace(/\]\}$/, `,{"type":"note","spec_version":"2.1","id":"${sid('note')}","created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","content":"`);
      yield Buffer.from(head);
      const block = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 100; i++) {
        produced += block.length;
        yield block;
      }
      yield Buffer.from('"}]}');
    }
    const e = await refusal(importSource(db.orm, huge(), 'stix', { secret: SECRET, batchSize: 2 }));
    expect(e.code).toBe('STIX_INVALID');
    expect(e.details.index).toBe(5);
    expect(e.message).toMatch(/string longer than the limit of 1048576 bytes/);
    expect(e.details.offset).toEqual(expect.any(Number));
    // The reader stopped at the limit instead of reading (and buffering) all 100 MB.
    expect(produced).toBeLessThan(4 * 1024 * 1024);
    expect(await counts(db.orm)).toEqual(baseline);
  });

  it('deeply nested JSON: refused at the nesting limit with its position', async () => {
    const deep = { ...identity(), x_nested: JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown };
    const text = JSON.stringify(bundle([...goodPrefix(), deep]));
    const e = await refusal(importValue(db.orm, text, 'stix', { batchSize: 2, chunk: 50 }));
    expect(e.code).toBe('STIX_INVALID');
    expect(e.details.index).toBe(5);
    expect(e.message).toMatch(/nested deeper than the limit of 64 levels/);
    // Depth 64 is reached at the 62nd "[" inside the object (bundle and "objects" are the first two levels).
    expect(e.details.offset).toBe(text.indexOf('[[[') + 61);
    expect(await counts(db.orm)).toEqual(baseline);
  });

  it('data after the bundle, and a bundle that is empty input: refused', async () => {
    await expectRefused(`${JSON.stringify(bundle(goodPrefix()))} {}`, { index: null, field: null, message: /after the end of the bundle/ });
    await expectRefused('   ', { index: null, field: null, message: /empty/ });
  });
});
