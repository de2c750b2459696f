/**
 * The two parsers under the STIX importer: the streaming bundle splitter (same result for any chunking,
 * limits, positions) and the STIX patterning parser (accepts the grammar, refuses the rest, extracts
 * only plain equality tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleSplitter, JsonStreamError, jsonErrorOffset } from '../../nodes/ingest/json-stream.js';
import { DEFAULT_LIMITS } from '../../nodes/ingest/limits.js';
import { extractValues, parsePattern, PatternError } from '../../nodes/ingest/pattern.js';
import { FIXTURES } from './helpers.js';

function split(text: string | Buffer, chunk: number, limits = DEFAULT_LIMITS): { values: unknown[]; members: Map<string, unknown> } {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  const s = new BundleSplitter(limits);
  const values: unknown[] = [];
  for (let i = 0; i < buf.length; i += chunk) for (const el of s.write(buf.subarray(i, i + chunk))) values.push(el.value);
  s.end();
  return { values, members: s.members };
}

function failure(f: () => unknown): JsonStreamError {
  try {
    f();
  } catch (e) {
    if (e instanceof JsonStreamError) return e;
    throw e;
  }
  throw new Error('expected a JsonStreamError');
}

describe('bundle splitter', () => {
  it('yields exactly JSON.parse’s objects and members for every chunk size, with multi-byte text and escapes', () => {
    const bundle = {
      id: 'bundle--0b6fd3a4-3f68-4c0b-9b3e-3f7c1c1a0b11',
      objects: [
        { type: 'identity', name: 'Zoë “quoted” \\ back\\slash \n newline', nested: { a: [1, { b: '}]' }], c: '{[' } },
        { type: 'note', content: '日本語 ✓ 😀', n: -1.5e3, t: true, f: false, z: null },
        {},
      ],
      type: 'bundle',
      x_trailing: [1, 2, { deep: ['x'] }],
    };
    const text = JSON.stringify(bundle, null, 2);
    for (const chunk of [1, 2, 3, 7, 64, 1 << 20]) {
      const r = split(text, chunk);
      expect(r.values).toEqual(bundle.objects);
      expect(Object.fromEntries(r.members)).toEqual({ id: bundle.id, type: 'bundle', x_trailing: bundle.x_trailing });
    }
  });

  it('splits a real bundle the same way JSON.parse reads it', () => {
    const text = readFileSync(join(FIXTURES, 'stix-poisonivy.json'));
    expect(split(text, 4096).values).toEqual((JSON.parse(text.toString('utf8')) as { objects: unknown[] }).objects);
  });

  it('reports truncation, syntax errors, depth and string limits with exact positions', () => {
    const t = '{"type": "bundle",\n "objects": [{"a": 1}, {"b": [1, 2}]}';
    const e = failure(() => split(t, 5));
    expect(e.problem).toBe('syntax');
    expect(e.index).toBe(1);
    expect(e.position).toEqual({ offset: t.indexOf('2}') + 1, line: 2, column: t.indexOf('2}') + 1 - t.indexOf('\n') });

    const cut = '{"type": "bundle", "objects": [{"a": "xy';
    expect(failure(() => split(cut, 3))).toMatchObject({ problem: 'truncated', index: 0, position: { offset: cut.length } });

    const limits = { ...DEFAULT_LIMITS, maxStringBytes: 10, maxDepth: 5 };
    const long = '{"objects": [{"a": "0123456789ABC"}]}';
    expect(failure(() => split(long, 4, limits))).toMatchObject({ problem: 'string', index: 0 });
    const deep = '{"objects": [{"a": [[[1]]]}]}';
    expect(failure(() => split(deep, 4, limits))).toMatchObject({ problem: 'depth', index: 0, position: { offset: deep.indexOf('[[[') + 2 } });
    expect(() => split('{"objects": [{"a": [[1]]}]}', 4, limits)).not.toThrow();
    const big = `{"objects": [{"a": "${'x'.repeat(5000)}"}]}`;
    expect(failure(() => split(big, 100, { ...DEFAULT_LIMITS, maxObjectBytes: 1000 }))).toMatchObject({ problem: 'size', index: 0 });
    expect(failure(() => split('{"objects": [1]}', 4))).toMatchObject({ problem: 'shape', index: 0 });
    expect(failure(() => split('{"objects": [], "objects": []}', 4))).toMatchObject({ problem: 'shape' });
  });

  it('finds the first syntax error where V8 gives no position', () => {
    for (const [text, at] of [['{"a": ,}', 6], ['[1,]', 3], ['{"a":tru}', 5], ['{"a":"\\x"}', 6], ['{"a":1} x', 8], ['{"a":[1,2]}', -1]] as const) {
      expect(jsonErrorOffset(text), text).toBe(at);
    }
  });
});

describe('STIX patterning', () => {
  const valid = [
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']",
    "[domain-name:value = 'example.com'] FOLLOWEDBY [url:value = 'http://example.com/foo'] WITHIN 600 SECONDS",
    "([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "[file:size IN (1024, 2048) AND file:mime_type NOT = 'text/plain'] REPEATS 5 TIMES",
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937'] AND [artifact:payload_bin = b'dGVzdA==' OR artifact:hashes.MD5 != h'ab']",
    '[EXISTS windows-registry-key:values]',
  ];
  const invalid = [
    "ipv4-addr:value = '198.51.100.1'",
    "[ipv4-addr:value = '198.51.100.1'",
    '[ipv4-addr:value = 198.51.100.1]',
    "[ipv4-addr value = 'x']",
    "[Ipv4-Addr:value = 'x']",
    "[file:name = 'x'] WITHIN -5 SECONDS",
    "[file:name = 'x'] START t'2016-13-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "[file:name = 'bad \\q escape']",
    "[file:name MATCHES '(unclosed']",
    "[a:b = 'x'] AND",
    'rule x { condition: true }',
    '',
  ];
  it('accepts the specification’s pattern forms', () => {
    for (const p of valid) expect(() => parsePattern(p), p).not.toThrow();
  });
  it('refuses what is not STIX patterning, saying where', () => {
    for (const p of invalid) {
      expect(() => parsePattern(p), p).toThrow(PatternError);
    }
  });
  it('extracts values only from equality tests joined by OR', () => {
    expect(extractValues(parsePattern(valid[2]!))).toEqual({
      simple: true,
      unsupported: 0,
      values: [
        { type: 'ipv4-addr', value: '198.51.100.1/32' },
        { type: 'ipv4-addr', value: '203.0.113.33/32' },
        { type: 'ipv6-addr', value: '2001:0db8:dead:beef:dead:beef:dead:0001/128' },
      ],
    });
    expect(extractValues(parsePattern(valid[0]!)).values).toEqual([{ type: 'file:sha256', value: 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' }]);
    expect(extractValues(parsePattern("[file:hashes.md5 = 'AA' OR file:name = 'x']"))).toEqual({ simple: true, unsupported: 1, values: [{ type: 'file:md5', value: 'AA' }] });
    for (const p of [valid[1]!, valid[3]!, valid[4]!, valid[5]!, valid[6]!, "[ipv4-addr:value NOT = '1.2.3.4']", "[ipv4-addr:value != '1.2.3.4']"]) {
      expect(extractValues(parsePattern(p)), p).toMatchObject({ simple: false, values: [] });
    }
  });
});
