/**
 * The hand-written HTTP fronts of the gateway and of a node over real sockets on 127.0.0.1:
 * every malformed request is answered with its catalog code (never INTERNAL), both fronts answer
 * the same request with the same code, status and body shape, and a body far over the limit is
 * cut off before the client has finished sending it.
 */
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../schema/errors.js';
import { createGateway, type Gateway } from '../../gateway/app.js';
import { createNode, type RunningNode } from '../../nodes/app.js';
import { DEFAULT_BODY_LIMIT } from '../../runtime/http.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import { quietLogger } from '../gateway/helpers.js';
import { tempDir } from '../nodes/helpers/db.js';

interface Reply {
  status: number;
  body: unknown;
}

interface BadRequest {
  name: string;
  code: keyof typeof ERROR_CATALOG;
  send: (url: string, headers: Record<string, string>) => Promise<Response>;
}

const json = { 'content-type': 'application/json' };
const post = (url: string, headers: Record<string, string>, body: string) => fetch(url, { method: 'POST', headers: { ...json, ...headers }, body });

const BAD_REQUESTS: BadRequest[] = [
  { name: 'a query sent as an object', code: 'REQUEST_INVALID', send: (u, h) => post(u, h, JSON.stringify({ query: { contribution: true } })) },
  { name: 'variables sent as a string', code: 'REQUEST_INVALID', send: (u, h) => post(u, h, JSON.stringify({ query: '{ __typename }', variables: '{"request":{}}' })) },
  { name: 'an empty POST body', code: 'REQUEST_INVALID', send: (u, h) => post(u, h, '') },
  { name: 'a body that is not JSON', code: 'REQUEST_INVALID', send: (u, h) => post(u, h, '{"query": ') },
  { name: 'a GET without a CSRF-safe header', code: 'REQUEST_INVALID', send: (u, h) => fetch(`${u}?query=${encodeURIComponent('{ __typename }')}`, { headers: h }) },
  { name: 'a PUT', code: 'METHOD_NOT_ALLOWED', send: (u, h) => fetch(u, { method: 'PUT', headers: { ...json, ...h }, body: '{}' }) },
  { name: 'a query that does not parse', code: 'INVALID_QUERY', send: (u, h) => post(u, h, JSON.stringify({ query: '{ contribution(' })) },
  { name: 'an unknown path', code: 'NOT_FOUND', send: (u, h) => post(new URL('/nope', u).href, h, '{}') },
  // request limits (runtime/request-limits.ts), checked before the GraphQL server parses anything
  { name: 'a document nested 3,000 deep (refused before the parser recurses)', code: 'QUERY_TOO_DEEP', send: (u, h) => post(u, h, JSON.stringify({ query: `{ ${'a { '.repeat(3000)}b${' }'.repeat(3000)} }` })) },
  { name: 'a document of 6,000 tokens', code: 'QUERY_TOO_MANY_TOKENS', send: (u, h) => post(u, h, JSON.stringify({ query: `{ ${'__typename '.repeat(6000)}}` })) },
  { name: 'a query nested 20 deep', code: 'QUERY_TOO_DEEP', send: (u, h) => post(u, h, JSON.stringify({ query: `{ ${'a { '.repeat(19)}b${' }'.repeat(19)} }` })) },
  { name: 'a query with 100 aliases', code: 'QUERY_TOO_MANY_ALIASES', send: (u, h) => post(u, h, JSON.stringify({ query: `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: __typename`).join(' ')} }` })) },
  { name: 'a query with 40 directives', code: 'QUERY_TOO_MANY_DIRECTIVES', send: (u, h) => post(u, h, JSON.stringify({ query: `{ ${'__typename @include(if: true) '.repeat(40)}}` })) },
  { name: 'a query asking for 6,000 rows', code: 'QUERY_TOO_COSTLY', send: (u, h) => post(u, h, JSON.stringify({ query: '{ rows(first: 6000) { id } }' })) },
];

async function reply(res: Response): Promise<Reply> {
  return { status: res.status, body: await res.json() };
}

/** Asserts the one wire shape and returns the error's code. */
function expectWireShape(r: Reply): string {
  const body = r.body as { errors?: Array<Record<string, unknown>> };
  expect(Object.keys(body)).toEqual(['errors']);
  expect(body.errors).toHaveLength(1);
  const error = body.errors![0]!;
  for (const key of Object.keys(error)) expect(['message', 'path', 'locations', 'extensions']).toContain(key);
  expect(typeof error.message).toBe('string');
  const extensions = error.extensions as Record<string, unknown>;
  expect(Object.keys(ERROR_CATALOG)).toContain(extensions.code);
  expect(extensions).not.toHaveProperty('http');
  expect(extensions).not.toHaveProperty('details');
  expect(r.status).toBe(ERROR_CATALOG[extensions.code as keyof typeof ERROR_CATALOG].status);
  return extensions.code as string;
}

/** The shape of a reply with the message left out: keys of the body, the error and its extensions. */
function shapeOf(r: Reply): unknown {
  const error = (r.body as { errors: Array<Record<string, unknown>> }).errors[0]!;
  return { status: r.status, keys: Object.keys(error).sort(), extensions: Object.keys(error.extensions as object).sort(), code: (error.extensions as { code: string }).code };
}

/**
 * Sends a chunked POST of `total` bytes in chunks of `chunk` bytes, a few milliseconds apart, and
 * stops as soon as the server answers or closes. Resolves what was sent by then and the answer's
 * first line, if any.
 */
function sendSlowly(url: string, headers: Record<string, string>, total: number, chunk: number): Promise<{ sent: number; statusLine: string | undefined; closed: boolean }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let sent = 0;
    let answer = '';
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ sent, statusLine: answer.length > 0 ? answer.split('\r\n')[0] : undefined, closed });
    };
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n')) setTimeout(() => finish(false), 20);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      const head = [`POST ${pathname} HTTP/1.1`, `host: ${hostname}:${port}`, 'content-type: application/json', 'transfer-encoding: chunked', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      const payload = Buffer.alloc(chunk, 0x20);
      const next = () => {
        if (finished) return;
        if (sent >= total) {
          socket.write('0\r\n\r\n');
          return;
        }
        socket.write(`${chunk.toString(16)}\r\n`);
        socket.write(payload);
        socket.write('\r\n');
        sent += chunk;
        timer = setTimeout(next, 2);
      };
      next();
    });
  });
}

let fx: AccessFixture;
let gateway: Gateway;
let node: RunningNode;
let auth: Record<string, string>;
const dir = tempDir();

beforeAll(async () => {
  fx = await makeAccessFixture();
  auth = { authorization: `Bearer ${await fx.token('eu-analyst')}` };
  gateway = await createGateway({ port: 0, nodes: [], logger: quietLogger, refreshIntervalMs: 0, access: fx.access({ db: `${fx.dir}/gateway.sqlite` }) });
  node = await createNode({ id: 'node-fronts', host: '127.0.0.1', port: 0, operatorPort: 0, dataDir: dir, operatorToken: 'operator-token-for-front-tests-0123', grants: 'disabled', logger: quietLogger });
});
afterAll(async () => {
  await gateway?.close();
  await node?.close();
  fx?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('a node answers every malformed request with its catalog code', () => {
  for (const bad of BAD_REQUESTS) {
    it(bad.name, async () => {
      const r = await reply(await bad.send(node.url, {}));
      expect(expectWireShape(r), JSON.stringify(r.body)).toBe(bad.code);
    });
  }

  it('a body over the limit', async () => {
    const r = await reply(await post(node.url, {}, JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(DEFAULT_BODY_LIMIT) })));
    expect(expectWireShape(r)).toBe('REQUEST_TOO_LARGE');
  });
});

describe('gateway and node errors have one wire shape', () => {
  for (const bad of BAD_REQUESTS) {
    it(bad.name, async () => {
      const fromGateway = await reply(await bad.send(gateway.url, auth));
      const fromNode = await reply(await bad.send(node.url, {}));
      expect(expectWireShape(fromGateway), JSON.stringify(fromGateway.body)).toBe(bad.code);
      expectWireShape(fromNode);
      expect(shapeOf(fromGateway)).toEqual(shapeOf(fromNode));
    });
  }

  it('a body over the limit', async () => {
    const body = JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(DEFAULT_BODY_LIMIT) });
    const fromGateway = await reply(await post(gateway.url, auth, body));
    const fromNode = await reply(await post(node.url, {}, body));
    expect(expectWireShape(fromGateway)).toBe('REQUEST_TOO_LARGE');
    expect(shapeOf(fromGateway)).toEqual(shapeOf(fromNode));
  });
});

describe('a body far over the limit is cut off early', () => {
  const total = 16 * DEFAULT_BODY_LIMIT;
  for (const which of ['node', 'gateway'] as const) {
    it(`by the ${which}`, async () => {
      const url = which === 'node' ? node.url : gateway.url;
      const r = await sendSlowly(url, which === 'node' ? {} : auth, total, 64 * 1024);
      expect(r.sent).toBeLessThan(total / 2);
      if (r.statusLine !== undefined) expect(r.statusLine).toMatch(/^HTTP\/1\.1 413 /);
      else expect(r.closed).toBe(true);
    });
  }
});
