/**
 * The gateway's HTTP client to nodes: a request that lands on a keep-alive socket the node has
 * just closed is resent on a fresh socket (the node never saw it); any other failure is not retried.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { NodeClient, NodeRequestError } from '../../gateway/net/node-client.js';

let server: Server | undefined;
const client = new NodeClient({ maxResponseBytes: 1 << 16 });

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server whose behaviour per request is decided by `onRequest(n, socketIndex)`. */
async function start(onRequest: (n: number, socket: number, destroy: () => void, answer: () => void) => void): Promise<{ url: string; sockets: () => number; requests: () => number }> {
  let requests = 0;
  const sockets = new Map<Socket, number>();
  server = createServer((req, res) => {
    const s = req.socket;
    req.resume();
    req.on('end', () => {
      requests++;
      onRequest(
        requests,
        sockets.get(s)!,
        () => s.destroy(),
        () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ ok: requests }));
        },
      );
    });
  });
  server.on('connection', (s) => sockets.set(s, sockets.size + 1));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/graphql`, sockets: () => sockets.size, requests: () => requests };
}

describe('NodeClient', () => {
  test('resends a request that failed on a stale keep-alive socket', async () => {
    // the first socket answers once, then is reset when it is reused (as a node closing an idle socket)
    const s = await start((n, socket, destroy, answer) => (socket === 1 && n > 1 ? destroy() : answer()));
    expect((await client.postJson(s.url, '{}', 5_000)).body).toEqual({ ok: 1 });
    const second = await client.postJson(s.url, '{}', 5_000);
    expect(second.status).toBe(200);
    expect(s.sockets()).toBe(2);
    expect(s.requests()).toBe(3);
  });
  test('does not retry a reset on a fresh socket', async () => {
    const s = await start((_n, _socket, destroy) => destroy());
    const err = await client.postJson(s.url, '{}', 5_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeRequestError);
    expect(s.requests()).toBe(1);
  });
});
