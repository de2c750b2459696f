/**
 * Stub member nodes for gateway tests: the contribution SDL as a federation 2.7 subgraph
 * (`buildSubgraphSchema`) answering contribution requests with planted partials, or misbehaving on
 * demand (slow, down, drifted SDL, invalid partials). `startStubNode` serves one over HTTP on
 * 127.0.0.1; `createStubNode` keeps it in-process, and `stubScatter` reaches in-process stubs the
 * way the gateway's HTTP scatter reaches real nodes (signed grants included), without sockets.
 *
 *   const node = await startStubNode({ id: 'cert-a', planted: [{ country: 'FR', sector: 'energy', count: 12 }] });
 *   node.url  // http://127.0.0.1:PORT/graphql
 *   node.requests  // every ContributionRequest received
 *   node.grants    // the GRANT_HEADER value of each, in the same order (undefined when absent)
 *   node.behave({ delayMs: 2000 }); node.respondWith((req, honest) => ({ ...honest, units: 0 }));
 *   await node.close();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse, type GraphQLSchema } from 'graphql';
import { CONTRIBUTION_OPERATION, CONTRIBUTION_SDL, GRANT_HEADER, type Contribution, type ContributionGroup, type ContributionRequest } from '../../schema/contract/index.js';
import type { NodeOutcome, Scatter } from '../../gateway/aggregate/ports.js';
import type { NodeHeaders } from '../../gateway/grants/grant.js';
import { countryByAlpha2 } from '../../schema/reference/index.js';

export const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [])';

/** A planted group of bounded counts: the node's truth before projection onto a query's groupBy. */
export interface PlantedCell {
  country: string;
  sector: string;
  /** `YYYY-MM-DD`; needed only for time filters/groupings. */
  date?: string;
  /** Bounded count (what the node's SQL would produce for this country × sector × day). */
  count: number;
}

/**
 * Replaces the honest answer. May throw a GraphQLError (e.g. with `extensions.code`) to refuse;
 * `meta.grant` is the request's grant header.
 */
export type Responder = (request: ContributionRequest, honest: Contribution, meta: { grant?: string }) => Contribution | Promise<Contribution>;

export interface StubNodeOptions {
  id: string;
  planted?: PlantedCell[];
  /** Replaces the published SDL (the federation link is prepended). Default: CONTRIBUTION_SDL. */
  sdl?: string;
  /** Delay before answering a contribution request (not the SDL check). */
  delayMs?: number;
  /** Port to listen on (default: any free port). */
  port?: number;
}

export interface StubNode {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  /** Contribution requests received, in order. */
  readonly requests: ContributionRequest[];
  /** The grant header of each contribution request, in the same order. */
  readonly grants: Array<string | undefined>;
  /** Resolves when the next contribution request has arrived (before any delay). */
  nextRequest(): Promise<ContributionRequest>;
  /** `_service` fetches received. */
  serviceChecks: number;
  /** Change the answer (default: the honest projection of `planted`). */
  respondWith(fn: Responder | null): void;
  behave(b: { delayMs?: number }): void;
  close(): Promise<void>;
}

function isoWeek(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const wy = t.getUTCFullYear();
  const week = Math.floor((t.getTime() - Date.UTC(wy, 0, 1)) / 86_400_000 / 7) + 1;
  return `${wy}-W${String(week).padStart(2, '0')}`;
}

function dimensionValue(dim: string, c: PlantedCell): string {
  const country = countryByAlpha2(c.country);
  switch (dim) {
    case 'COUNTRY':
      return c.country;
    case 'REGION':
      return country?.region ?? '';
    case 'SUBREGION':
      return country?.subregion ?? '';
    case 'SECTOR':
      return c.sector;
    case 'WEEK':
      return isoWeek(c.date ?? '1970-01-01');
    case 'MONTH':
      return (c.date ?? '1970-01-01').slice(0, 7);
    default:
      throw new Error(`stub node cannot group by ${dim}`);
  }
}

function matches(c: PlantedCell, request: ContributionRequest): boolean {
  const f = request.filter ?? {};
  const country = countryByAlpha2(c.country);
  if (f.countries && !f.countries.includes(c.country)) return false;
  if (f.regions && !f.regions.includes(country?.region ?? '')) return false;
  if (f.subregions && !f.subregions.includes(country?.subregion ?? '')) return false;
  if (f.sectors && !f.sectors.includes(c.sector)) return false;
  if (f.from && (!c.date || c.date < f.from)) return false;
  if (f.to && (!c.date || c.date >= f.to)) return false;
  return true;
}

/**
 * The honest contribution of `planted` for `request`: planted counts filtered, projected onto the
 * groupBy keys and summed, with the fewest units the bounds allow for those counts.
 */
export function honestContribution(node: string, planted: readonly PlantedCell[], request: ContributionRequest): Contribution {
  const groups = new Map<string, ContributionGroup>();
  for (const c of planted) {
    if (!matches(c, request)) continue;
    const key = request.groupBy.map((d) => dimensionValue(d, c));
    const k = JSON.stringify(key);
    const g = groups.get(k) ?? { key, count: 0, sum: null, disrupted: null };
    g.count += c.count;
    groups.set(k, g);
  }
  const list = [...groups.values()];
  const { maxPartitions: l0, maxPerPartition: lInf } = request.bounds;
  const total = list.reduce((s, g) => s + g.count, 0);
  const maxCount = list.reduce((m, g) => Math.max(m, g.count), 0);
  const nonEmpty = list.filter((g) => g.count > 0).length;
  const units = Math.max(Math.ceil(maxCount / lInf), Math.ceil(nonEmpty / l0), Math.ceil(total / (l0 * lInf)));
  return { node, queryId: request.queryId, units, groups: list };
}

/** A stub node without a socket: `execute` answers one GraphQL request as its HTTP endpoint would. */
export interface InProcessStubNode extends Omit<StubNode, 'url' | 'port' | 'close'> {
  /** Runs one GraphQL request (`grant`: the request's grant header). */
  execute(body: { query?: string; variables?: Record<string, unknown>; operationName?: string }, grant?: string): Promise<Record<string, unknown>>;
}

/** Creates a stub node in-process. */
export function createStubNode(options: StubNodeOptions): InProcessStubNode {
  let responder: Responder | null = null;
  let delayMs = options.delayMs ?? 0;
  const requests: ContributionRequest[] = [];
  const grants: Array<string | undefined> = [];
  let waiters: Array<(r: ContributionRequest) => void> = [];
  const state = { serviceChecks: 0 };
  const typeDefs = parse(`${FEDERATION_LINK}\n${options.sdl ?? CONTRIBUTION_SDL}`);
  const resolvers = {
    Query: {
      contribution: async (_: unknown, args: { request: ContributionRequest }, ctx: { grant?: string }) => {
        const request = JSON.parse(JSON.stringify(args.request)) as ContributionRequest;
        requests.push(request);
        grants.push(ctx.grant);
        const w = waiters;
        waiters = [];
        for (const f of w) f(request);
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        const honest = honestContribution(options.id, options.planted ?? [], request);
        return responder ? responder(request, honest, { grant: ctx.grant }) : honest;
      },
    },
  };
  const schema: GraphQLSchema = buildSubgraphSchema([{ typeDefs, resolvers: resolvers as never }]);
  return {
    id: options.id,
    requests,
    grants,
    execute: async (body, grant) => {
      if (body.query?.includes('_service')) state.serviceChecks++;
      const result = await graphql({ schema, source: body.query ?? '', variableValues: body.variables, operationName: body.operationName, contextValue: { grant } });
      return JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
    },
    nextRequest: () => new Promise<ContributionRequest>((resolve) => waiters.push(resolve)),
    get serviceChecks() {
      return state.serviceChecks;
    },
    set serviceChecks(v: number) {
      state.serviceChecks = v;
    },
    respondWith(fn) {
      responder = fn;
    },
    behave(b) {
      if (b.delayMs !== undefined) delayMs = b.delayMs;
    },
  };
}

/** Starts a stub node on a loopback port. */
export async function startStubNode(options: StubNodeOptions): Promise<StubNode> {
  const node = createStubNode(options);
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":[{"message":"bad json"}]}');
        return;
      }
      const header = req.headers[GRANT_HEADER];
      const text = JSON.stringify(await node.execute(body, Array.isArray(header) ? header[0] : header));
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(node, {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/**
 * An in-process scatter over `nodes` for `CreateGatewayOptions.scatter`: each request gets the
 * gateway's signed grant header, as over HTTP; a node's GraphQL errors become an ERROR outcome with
 * the node's catalog code; a node slower than `timeoutMs` is a TIMEOUT (its late answer is dropped);
 * the nodes in `down` (changed at will) are known to be down and never asked.
 */
export function stubScatter(nodes: readonly InProcessStubNode[], options: { timeoutMs?: number; down?: Set<string> } = {}): (headersFor: NodeHeaders) => Scatter {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const down = options.down ?? new Set<string>();
  return (headersFor) => ({
    admittedNodes: () => nodes.map((n) => n.id),
    availability: async (ids) => ({ up: ids.filter((id) => !down.has(id)), down: ids.filter((id) => down.has(id)) }),
    scatter: async (ids, request, grant) => {
      const headers = await Promise.all(ids.map((id) => headersFor({ id }, request, grant)));
      return Promise.all(
        ids.map(async (id, i): Promise<NodeOutcome> => {
          const node = nodes.find((n) => n.id === id);
          if (!node) return { node: id, ok: false, reason: 'UNREACHABLE' };
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
          const body = await Promise.race([node.execute({ query: CONTRIBUTION_OPERATION, operationName: 'Contribution', variables: { request } }, headers[i]![GRANT_HEADER]), late]);
          clearTimeout(timer);
          if (body === null) return { node: id, ok: false, reason: 'TIMEOUT' };
          const errors = body.errors as Array<{ extensions?: { code?: unknown } }> | undefined;
          if (errors?.length) {
            const code = errors.map((e) => e.extensions?.code).find((c): c is string => typeof c === 'string');
            return code ? { node: id, ok: false, reason: 'ERROR', code } : { node: id, ok: false, reason: 'ERROR' };
          }
          return { node: id, ok: true, contribution: (body.data as { contribution?: unknown } | null)?.contribution };
        }),
      );
    },
  });
}

/** A free loopback port with nothing listening on it (for "node down" tests). */
export async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A scatter that admits one node `x` and fails with `message` when asked (for error-masking tests). */
export function failingScatter(message: string): (headersFor: NodeHeaders) => Scatter {
  return () => ({
    admittedNodes: () => ['x'],
    availability: async (ids) => ({ up: [...ids], down: [] }),
    scatter: async () => {
      throw new Error(message);
    },
  });
}
