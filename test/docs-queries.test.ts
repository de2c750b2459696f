/**
 * The worked examples of docs/queries.md stay true: every operation under docs/queries/ is valid
 * against the gateway's public API (the composed supergraph: nodes, platform and reference
 * subgraphs), and docs/queries.md shows each of them verbatim.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import { buildFederation } from '../gateway/federation/index.js';
import { NodeClient } from '../gateway/net/node-client.js';
import { NodeRegistry } from '../gateway/registry/index.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const DIR = join(ROOT, 'docs/queries');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.graphql')).sort();
const DOC = readFileSync(join(ROOT, 'docs/queries.md'), 'utf8');

let schema: GraphQLSchema;

beforeAll(async () => {
  const logger = pino({ level: 'silent' });
  const client = new NodeClient({ maxResponseBytes: 1 << 20 });
  const registry = new NodeRegistry([], { client, timeoutMs: 1_000, logger });
  const federation = buildFederation({ config: DEFAULT_CONFIG, registry, client, logger });
  schema = (await federation.gateway.load()).schema;
  await federation.gateway.stop();
});

describe('docs/queries', () => {
  test('there is one example per analyst question', () => {
    const ops = FILES.map((f) => readFileSync(join(DIR, f), 'utf8'));
    for (const field of ['crossBorderPattern', 'trend', 'topK', 'exploitVintages', 'sectorImpact', 'indicatorPrevalence']) {
      expect(ops.some((o) => o.includes(`${field}(`)), field).toBe(true);
    }
  });
  test.each(FILES)('%s is valid against the public API and shown verbatim in docs/queries.md', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const errors = validate(schema, parse(text));
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(DOC.includes(text.trim()), `docs/queries.md does not show ${file} verbatim`).toBe(true);
  });
});
