/**
 * HTTP helpers shared by the hand-written node:http fronts (gateway, node, node operator API).
 *
 * Every error a front answers itself has the GraphQL wire shape of `graphql-errors.ts`:
 * `{ errors: [{ message, extensions: { code, ...details } }] }`, with the catalog status.
 *
 * - {@link readBody} stops reading and cuts the connection as soon as the body passes its limit
 *   (or its `content-length` announces more), instead of reading to the end before refusing.
 * - {@link handleRequests} turns an async handler into a request listener: an AccordError it throws
 *   is answered with its code and status; anything else is logged with its cause and answered
 *   INTERNAL with a fixed message.
 * - {@link listen} resolves the URL once the server listens; {@link close} stops accepting,
 *   lets requests in flight finish (idle keep-alive sockets closed at once), then closes what is
 *   left after a grace period; {@link serve} is both around a request listener.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccordError, ERROR_CATALOG } from '../schema/errors.js';
import { asAccordError, internalMessage, wireError, type ErrorMasking } from './graphql-errors.js';

/** Default largest request body, bytes (1 MiB). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

function tooLarge(limit: number): AccordError {
  return new AccordError('REQUEST_TOO_LARGE', `The request body exceeds ${limit} bytes; send a smaller request.`, { limit });
}

/**
 * The request body, at most `limit` bytes. Rejects with AccordError('REQUEST_TOO_LARGE') as soon
 * as the limit is passed, having stopped reading; answering it with {@link sendError} closes the
 * connection. Rejects with the stream's error when the client aborts.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.pause();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** `text` parsed as JSON. Throws AccordError('REQUEST_INVALID') when it is not JSON. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AccordError('REQUEST_INVALID', 'The request body is not valid JSON; send a JSON object with a `query` string.');
  }
}

/** Sends `body` as JSON with `status` and any extra headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Answers with one catalog error and its status. After REQUEST_TOO_LARGE the connection is closed
 * once the answer is written, so the rest of the body is never read.
 */
export function sendError(res: ServerResponse, error: AccordError, headers: Readonly<Record<string, string>> = {}): void {
  if (error.code === 'REQUEST_TOO_LARGE') {
    res.shouldKeepAlive = false;
    res.once('finish', () => res.socket?.destroy());
  }
  sendJson(res, ERROR_CATALOG[error.code].status, { errors: [wireError(error.code, error.message, error.details)] }, headers);
}

/**
 * A request listener running `handle`; see the module comment for how its failures are answered.
 * A failure after the answer has started destroys the connection.
 */
export function handleRequests(masking: ErrorMasking, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): RequestListener {
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const accord = asAccordError(e);
      const known = accord !== undefined && accord.code !== 'INTERNAL';
      if (!known) masking.logger.error({ err: e, code: 'INTERNAL', method: req.method, path: req.url }, `HTTP request failed in the ${masking.service}`);
      if (res.headersSent) return void res.destroy();
      sendError(res, known ? accord : new AccordError('INTERNAL', internalMessage(masking.service)));
    });
  };
}

/** Starts `server` on `host:port` (0 picks a free port); resolves its base URL, `http://host:port`. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/** Stops accepting, drains requests in flight for up to `graceMs`, then closes every connection. */
export function close(server: Server, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}

export interface Serving {
  /** Base URL, `http://host:port`. */
  url: string;
  /** {@link close} for the server. */
  close(): Promise<void>;
}

/**
 * Serves `listener` on `host:port` (keep-alive sockets kept `keepAliveMs`, default Node's);
 * rejects with the listen error (port in use, bad host) and then holds nothing open.
 */
export async function serve(listener: RequestListener, port: number, host: string, keepAliveMs?: number): Promise<Serving> {
  const server = createServer(listener);
  if (keepAliveMs !== undefined) server.keepAliveTimeout = keepAliveMs;
  const url = await listen(server, port, host);
  return { url, close: () => close(server) };
}
