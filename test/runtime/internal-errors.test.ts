/**
 * INTERNAL is always logged with its cause and never shows it: on a node, on the gateway, in the
 * shared formatter and in the shared HTTP front. Logs are captured through the logger factory's
 * `destination`.
 */
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRIBUTION_OPERATION, type ContributionRequest } from '../../schema/contract/contribution.js';
import { AccordError } from '../../schema/errors.js';
import { createGateway } from '../../gateway/app.js';
import { createNode } from '../../nodes/app.js';
import { makeFormatError } from '../../runtime/graphql-errors.js';
import { handleRequests, serve } from '../../runtime/http.js';
import { createLogger } from '../../runtime/log.js';
import { makeAccessFixture } from '../helpers/access.js';
import { PATTERN_QUERY } from '../gateway/helpers.js';
import { gql } from '../helpers/graphql.js';
import { failingScatter } from '../helpers/stub-node.js';
import { tempDir } from '../nodes/helpers/db.js';

/** A logger whose JSON lines land in `lines`. */
function capturedLogger(service: string) {
  const lines: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger(service, 'info', { destination }), lines };
}

/** The error lines (pino level 50) whose serialised error mentions `text`. */
const errorsMentioning = (lines: Array<Record<string, any>>, text: string) => lines.filter((l) => l.level === 50 && JSON.stringify(l.err ?? {}).includes(text));

const REQUEST: ContributionRequest = { queryId: 'q-internal', measure: 'INCIDENTS', groupBy: ['TLP'], bounds: { maxPartitions: 1, maxPerPartition: 1 } };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('INTERNAL errors are logged with their cause', () => {
  it('on a node: a failing guard answers INTERNAL with a fixed message, the node log has the cause', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { logger, lines } = capturedLogger('accord-node');
    const node = await createNode({
      id: 'node-internal',
      host: '127.0.0.1',
      port: 0,
      operatorPort: 0,
      dataDir: dir,
      operatorToken: 'operator-token-for-internal-tests-01',
      grants: 'disabled',
      logger,
      guard: {
        admit() {
          throw new Error('disk on fire at /srv/secret 4711');
        },
      },
    });
    try {
      const res = await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: CONTRIBUTION_OPERATION, variables: { request: REQUEST } }) });
      const body = (await res.json()) as { data: unknown; errors: Array<{ message: string; path?: unknown; extensions: unknown }> };
      expect(body.errors).toEqual([{ message: 'Internal error; the node log has the details.', path: ['contribution'], extensions: { code: 'INTERNAL' } }]);
      expect(JSON.stringify(body)).not.toContain('4711');
      const logged = errorsMentioning(lines, 'disk on fire at /srv/secret 4711');
      expect(logged.length).toBeGreaterThan(0);
      // the formatter's own line: INTERNAL, with the cause under the node's wrapper
      expect(logged.some((l) => l.code === 'INTERNAL' && l.service === 'accord-node' && String(l.err.stack).includes('caused by: Error: disk on fire'))).toBe(true);
    } finally {
      await node.close();
    }
  });

  it('on the gateway: a failing scatter answers INTERNAL, the gateway log has the cause', async () => {
    const fx = await makeAccessFixture();
    const { logger, lines } = capturedLogger('accord-gateway');
    const gw = await createGateway({
      port: 0,
      nodes: [],
      logger,
      refreshIntervalMs: 0,
      access: fx.access({ db: `${fx.dir}/gateway.sqlite` }),
      scatter: failingScatter('secret 4711 at /srv/private'),
    });
    try {
      const r = await gql(gw.url, PATTERN_QUERY, { groupBy: ['COUNTRY'] }, await fx.token('eu-analyst'));
      expect(r.errors).toEqual([{ message: 'Internal error; the gateway log has the details.', path: ['crossBorderPattern'], extensions: { code: 'INTERNAL' } }]);
      expect(errorsMentioning(lines, 'secret 4711 at /srv/private').length).toBe(1);
    } finally {
      await gw.close();
      fx.remove();
    }
  });

  it('the formatter logs an INTERNAL once: not again when an in-process subgraph relayed it', () => {
    const { logger, lines } = capturedLogger('test');
    const format = makeFormatError({ logger, service: 'node' });
    const cause = new Error('root cause 4711');
    const thrown = new GraphQLError('wrapped', { path: ['contribution'], originalError: new AccordError('INTERNAL', 'could not compute', { requestId: 'r1' }, { cause }) });
    expect(format({ message: 'wrapped', path: ['contribution'], extensions: { code: 'INTERNAL' } }, thrown)).toEqual({
      message: 'Internal error; the node log has the details.',
      path: ['contribution'],
      extensions: { code: 'INTERNAL' },
    });
    expect(errorsMentioning(lines, 'root cause 4711')).toHaveLength(1);
    const relayed = new GraphQLError('Internal error; the gateway log has the details.', { extensions: { code: 'INTERNAL', serviceName: 'nodes' } });
    format({ message: relayed.message, extensions: { code: 'INTERNAL', serviceName: 'nodes' } }, relayed);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1);
    // an unknown error without a code is masked and logged
    format({ message: 'boom 4711', extensions: {} }, new Error('boom 4711'));
    expect(errorsMentioning(lines, 'boom 4711')).toHaveLength(1);
  });

  it('the shared HTTP front: a failing handler answers 500 INTERNAL and logs the cause', async () => {
    const { logger, lines } = capturedLogger('test');
    const server = await serve(
      handleRequests({ logger, service: 'node' }, async () => {
        throw new Error('handler broke 4711');
      }),
      0,
      '127.0.0.1',
    );
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ errors: [{ message: 'Internal error; the node log has the details.', extensions: { code: 'INTERNAL' } }] });
      expect(errorsMentioning(lines, 'handler broke 4711')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
