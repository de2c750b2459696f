/**
 * Builds and starts the gateway: access configuration (members, Cedar policies, budgets), member
 * authentication, the ledger database, the grant signing key, registry admission, in-process
 * supergraph, Apollo Server over the federation, and the HTTP front. `main.ts` is the CLI around
 * it; tests and benchmarks call {@link createGateway} directly (port 0 picks a free port).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Logger } from 'pino';
import { GRANT_HEADER, ledgerPeriod } from '../schema/contract/index.js';
import { AccordError } from '../schema/errors.js';
import type { Entropy } from '../schema/privacy/index.js';
import { AdmissionGate, budgetView, type GrantContext, type LedgerPort, type PolicyPort } from './admission/gate.js';
import { Authenticator, type Principal } from './auth/authenticator.js';
import { resolveConfig, type GatewayConfig, type GatewayConfigInput } from './config.js';
import { buildFederation, type Federation, type LocalSubgraph, type NodeHeaders } from './federation/index.js';
import { ensureSigningKey, GRANT_KEYS_PATH, GrantSigner } from './grants/signer.js';
import { makeFormatError } from './http/errors.js';
import { createRequestListener } from './http/server.js';
import { createLogger } from './log.js';
import { Ledger } from './ledger/ledger.js';
import { openGatewayOrm } from './ledger/orm.js';
import { NodeClient } from './net/node-client.js';
import type { Scatter } from './aggregate/answer.js';
import type { PolicyNode } from './policy/engine.js';
import { AccessControl, type ReloadResult } from './policy/store.js';
import { NodeRegistry } from './registry/index.js';

/** The per-request context of the analyst API. */
export interface GatewayContext {
  /** Unique id of the HTTP request, for logs. */
  requestId: string;
  /** The request's headers (lower-case names). */
  headers: http.IncomingHttpHeaders;
  /** The authenticated caller. */
  principal: Principal;
}

export interface CreateGatewayOptions extends GatewayConfigInput {
  /** Logger to use instead of a stderr logger at `logLevel`. */
  logger?: Logger;
  /** Per-node request headers (the grant slot). */
  headersFor?: NodeHeaders;
  /** Noise source for tests; the privacy core's CSPRNG by default. */
  entropy?: Entropy;
  /** Replaces the HTTP scatter (benchmarks). */
  scatter?: Scatter;
  /** More in-process subgraphs (e.g. `reference`). */
  extraSubgraphs?: LocalSubgraph[];
  /**
   * Replaces admission components (benchmarks and tests only; not reachable from the CLI): a policy
   * port instead of the Cedar engine, a ledger port instead of the database ledger.
   */
  admission?: { policy?: PolicyPort; ledger?: LedgerPort };
  /** Clock (ledger periods, grant times, indicator windows); the system clock by default. */
  now?: () => Date;
  /** Records every operation the reference subgraph receives (tests). */
  onReferenceRequest?: (request: { query: string; variables: unknown }) => void;
}

export interface Gateway {
  /** Base URL of the GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  config: GatewayConfig;
  registry: NodeRegistry;
  federation: Federation;
  apollo: ApolloServer<GatewayContext>;
  /** Members, policies and budgets in force. */
  access: AccessControl;
  ledger: Ledger;
  /** Signs the grants sent to nodes; `signer.jwks` is what nodes verify them with. */
  signer: GrantSigner;
  /** Re-checks every node's SDL now. */
  refresh(): Promise<void>;
  /** Re-reads members, policies, budgets and the token JWKS file (SIGHUP); keeps the old ones on error. */
  reloadPolicies(): ReloadResult;
  /** Stops accepting requests, drains in-flight ones, closes node connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Resolves the configuration, admits nodes (one SDL check each, in parallel; a node that is down
 * stays a member as UNREACHABLE), composes the supergraph, starts Apollo Server and listens.
 * Throws AccordError('CONFIG_INVALID') for a bad configuration; never fails because a node is down.
 */
/** How long a shutdown waits for in-flight requests before closing connections. */
const STOP_GRACE_MS = 5_000;

export async function createGateway(options: CreateGatewayOptions = {}): Promise<Gateway> {
  const config = resolveConfig(options);
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? (() => new Date());
  const a = config.access;

  // Access configuration and authentication come first: a bad policy file stops the start.
  const policyNodes: PolicyNode[] = config.nodes.map((n) => ({ id: n.id, kind: n.kind, ...(n.country ? { country: n.country } : {}), ...(n.region ? { region: n.region } : {}) }));
  const access = new AccessControl({ members: a.members, policies: a.policies, ...(a.budgets !== undefined ? { budgets: a.budgets } : {}) }, policyNodes);
  const authenticator = new Authenticator(
    {
      ...(a.jwks ? { jwks: a.jwks } : {}),
      ...(a.jwksFile ? { jwksFile: a.jwksFile } : {}),
      ...(a.jwksUrl ? { jwksUrl: a.jwksUrl } : {}),
      issuer: a.tokenIssuer,
      audience: a.tokenAudience,
      clockToleranceSec: a.clockToleranceSec,
    },
    (id) => access.member(id),
  );
  const { privateJwk } = await ensureSigningKey(a.signingKey, a.signingJwksOut);
  const signer = await GrantSigner.create(privateJwk, a.gatewayId);
  const orm = await openGatewayOrm({ db: a.db, ...(a.pgSchema ? { pgSchema: a.pgSchema } : {}) });
  const ledger = await Ledger.open(orm, () => access.budgets);
  logger.info({ policies: access.engine.policies.ids, members: access.members.length, db: ledger.dialect, grantKid: signer.kid }, 'access control ready');

  try {
    const client = new NodeClient({ maxResponseBytes: config.maxNodeResponseBytes });
    const registry = new NodeRegistry(config.nodes, { client, timeoutMs: config.nodeTimeoutMs, logger });
    await registry.refresh();
    for (const n of registry.list()) logger.info({ node: n.id, status: n.status }, 'node registered');

    const nodeInfo = new Map(policyNodes.map((n) => [n.id, n]));
    const gate = new AdmissionGate({
      policy: () => options.admission?.policy ?? access.engine,
      ledger: options.admission?.ledger ?? ledger,
      nodeInfo: (id) => nodeInfo.get(id) ?? { id, kind: 'unknown' },
      logger,
      now,
    });
    const headersFor: NodeHeaders =
      options.headersFor ??
      (async (node, request, context) => {
        const grant = (context as { grant?: GrantContext } | undefined)?.grant;
        if (!grant) throw new AccordError('INTERNAL', 'A contribution request without an admission reached the scatter.');
        const { token } = await signer.sign(node.id, { member: grant.member, groups: grant.groups, request, rho: grant.rho, delta: grant.delta, period: grant.period }, now().getTime());
        return { [GRANT_HEADER]: token };
      });
    const reloadPolicies = (): ReloadResult => {
      let result: ReloadResult;
      try {
        authenticator.reload(); // the token JWKS file first: on failure nothing changes
        result = access.reload();
      } catch (e) {
        const current = { version: access.version, policies: [...access.engine.policies.ids], members: access.members.length };
        result = { ok: false, ...current, errors: [(e as Error).message] };
      }
      if (result.ok) logger.info({ version: result.version, policies: result.policies }, 'access configuration reloaded');
      else logger.error({ code: 'CONFIG_INVALID', errors: result.errors }, 'access configuration reload refused; the previous configuration stays in force');
      return result;
    };

    const federation = buildFederation({
      config,
      registry,
      client,
      logger,
      gate,
      headersFor,
      platformAccess: {
        budgets: async (p, nodes) => (await ledger.budgetsOf(p.member.id, nodes, ledgerPeriod(now()))).map(budgetView),
        reload: reloadPolicies,
      },
      ...(options.scatter ? { scatter: options.scatter } : {}),
      ...(options.entropy ? { entropy: options.entropy } : {}),
      ...(options.extraSubgraphs ? { extraSubgraphs: options.extraSubgraphs } : {}),
      ...(options.onReferenceRequest ? { onReferenceRequest: options.onReferenceRequest } : {}),
      today: () => now().toISOString().slice(0, 10),
    });

    let requests = 0;
    const httpServer = http.createServer();
    httpServer.keepAliveTimeout = 65_000;
    const apollo = new ApolloServer<GatewayContext>({
      gateway: federation.gateway,
      formatError: makeFormatError(logger),
      includeStacktraceInErrorResponses: false,
      introspection: true,
      // Compact JSON: answers have hundreds of cells, and Apollo's default pretty-printing doubles them.
      stringifyResult: (value) => JSON.stringify(value),
      plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled()],
    });
    await apollo.start();
    httpServer.on(
      'request',
      createRequestListener<GatewayContext, Principal>(apollo, {
        logger,
        authenticate: (authorization) => authenticator.authenticate(authorization),
        context: async (req, principal) => ({ requestId: `r${++requests}`, headers: req.headers, principal }),
        documents: { [GRANT_KEYS_PATH]: () => signer.jwks },
      }),
    );
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const address = httpServer.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}/graphql`;

    const timer =
      config.refreshIntervalMs > 0
        ? setInterval(() => {
            void registry.refresh();
          }, config.refreshIntervalMs).unref()
        : undefined;
    let closing: Promise<void> | undefined;
    return {
      url,
      config,
      registry,
      federation,
      apollo,
      access,
      ledger,
      signer,
      refresh: async () => {
        await registry.refresh();
      },
      reloadPolicies,
      close: () =>
        (closing ??= (async () => {
          if (timer) clearInterval(timer);
          logger.debug({ event: 'closing', step: 'apollo' }, 'stopping Apollo Server');
          // Apollo Server's stop (drain, then the gateway's own stop) can wait indefinitely once
          // queries have been served; in-flight requests get a grace period, then the HTTP server's
          // connections are closed. Nothing is lost: ledger writes are committed before answers leave.
          let timedOut = false;
          await Promise.race([
            apollo.stop(),
            new Promise<void>((res) =>
              setTimeout(() => {
                timedOut = true;
                res();
              }, STOP_GRACE_MS).unref(),
            ),
          ]);
          if (timedOut) logger.warn({ event: 'closing', graceMs: STOP_GRACE_MS }, 'Apollo Server did not stop within the grace period; closing connections');
          httpServer.closeAllConnections();
          httpServer.close();
          client.close();
          logger.debug({ event: 'closing', step: 'ledger' }, 'closing the ledger');
          await ledger.close();
          logger.debug({ event: 'closing', step: 'done' }, 'gateway closed');
        })()),
    };
  } catch (e) {
    await ledger.close().catch(() => undefined);
    throw e;
  }
}
