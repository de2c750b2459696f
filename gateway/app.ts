/**
 * The gateway's composition root. {@link buildGateway} wires every part without opening a port:
 * access configuration (members, Cedar policies, budgets), member authentication, the ledger
 * database, the grant signing key, registry admission, the in-process supergraph, Apollo Server
 * over the federation, and the HTTP front as a request listener. {@link createGateway} builds and
 * listens. `main.ts` is the CLI around it; tests drive a built gateway in-process or listen on port 0.
 */
import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Logger } from 'pino';
import { listen } from '../runtime/http.js';
import { DEFAULT_REQUEST_LIMITS } from '../runtime/request-limits.js';
import type { Entropy } from '../schema/privacy/index.js';
import { AdmissionGate, type LedgerPort, type PolicyPort } from './admission/gate.js';
import type { Scatter } from './aggregate/ports.js';
import { ANSWER_TYPE } from './aggregate/questions.js';
import { Authenticator } from './auth/authenticator.js';
import { resolveConfig, type GatewayConfig, type GatewayConfigInput } from './config.js';
import type { GatewayContext, Principal } from './context.js';
import { buildFederation, type Federation, type LocalSubgraph } from './federation/index.js';
import { grantHeaders, type NodeHeaders } from './grants/grant.js';
import { ensureSigningKey, GRANT_KEYS_PATH, GrantSigner } from './grants/signer.js';
import { makeFormatError } from './http/errors.js';
import { createRequestListener } from './http/server.js';
import { createLogger } from './log.js';
import { Ledger } from './ledger/ledger.js';
import { openGatewayOrm } from './ledger/orm.js';
import { NodeClient } from './net/node-client.js';
import { budgetView, federationBudgetView } from './ledger/budget-view.js';
import { chargeUnits } from './ledger/units.js';
import type { PolicyNode } from './policy/engine.js';
import { AccessControl, type ReloadResult } from './policy/store.js';
import { NodeRegistry } from './registry/index.js';

export interface CreateGatewayOptions extends GatewayConfigInput {
  /** Logger to use instead of a stderr logger at `logLevel`. */
  logger?: Logger;
  /** Noise source for tests; the privacy core's CSPRNG by default. */
  entropy?: Entropy;
  /**
   * Replaces the HTTP scatter (in-process tests, benchmarks). Receives the function that signs each
   * node's grant header, so a replacement can still send (or check) real grants.
   */
  scatter?: (grantHeaders: NodeHeaders) => Scatter;
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

/** A gateway wired and started, not yet listening: what {@link listenGateway} serves. */
export interface BuiltGateway {
  config: GatewayConfig;
  registry: NodeRegistry;
  federation: Federation;
  apollo: ApolloServer<GatewayContext>;
  /** Members, policies and budgets in force. */
  access: AccessControl;
  ledger: Ledger;
  /** Signs the grants sent to nodes; `signer.jwks` is what nodes verify them with. */
  signer: GrantSigner;
  /** The HTTP front: authentication, GraphQL, health and the grant keys. */
  server: http.Server;
  /** Authenticates an `Authorization` header value; rejects with AccordError('UNAUTHENTICATED'). */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Re-checks every node's SDL now. */
  refresh(): Promise<void>;
  /** Re-reads members, policies, budgets and the token JWKS file (SIGHUP); keeps the old ones on error. */
  reloadPolicies(): ReloadResult;
  /** Stops accepting requests, drains in-flight ones, closes node connections and the ledger. Idempotent. */
  close(): Promise<void>;
}

/** A listening gateway. */
export interface Gateway extends BuiltGateway {
  /** Base URL of the GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
}

/** The cost weight of one analyst question in a request (`runtime/request-limits.ts`). */
const QUESTION_WEIGHT = 100;

/** How long a shutdown waits for in-flight requests before closing connections. */
const STOP_GRACE_MS = 5_000;

/**
 * Resolves the configuration, admits nodes (one SDL check each, in parallel; a node that is down
 * stays a member as UNREACHABLE), composes the supergraph and starts Apollo Server; opens no port.
 * Throws AccordError('CONFIG_INVALID') for a bad configuration; never fails because a node is down.
 * Nothing stays open on failure.
 */
export async function buildGateway(options: CreateGatewayOptions = {}): Promise<BuiltGateway> {
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
      maxTokenLifetimeSec: a.maxTokenLifetimeSec,
    },
    (id) => access.member(id),
  );
  const { privateJwk } = await ensureSigningKey(a.signingKey, a.signingJwksOut);
  const signer = await GrantSigner.create(privateJwk, a.gatewayId);
  const orm = await openGatewayOrm({ db: a.db, ...(a.pgSchema ? { pgSchema: a.pgSchema } : {}) });
  const ledger = await Ledger.open(orm, () => access.budgets, { horizonDays: config.privacy.horizonDays, federation: config.privacy.multiplicity > 1, now });
  logger.info({ policies: access.engine.policies.ids, members: access.members.length, db: ledger.dialect, grantKid: signer.kid }, 'access control ready');

  const client = new NodeClient({ maxResponseBytes: config.maxNodeResponseBytes });
  try {
    const registry = new NodeRegistry(config.nodes, { client, timeoutMs: config.nodeTimeoutMs, logger, circuitCooldownMs: config.circuitCooldownMs });
    if (!options.scatter) {
      // SDL admission is the HTTP scatter's; an injected scatter decides which nodes it reaches.
      await registry.refresh();
      for (const n of registry.list()) logger.info({ node: n.id, status: n.status }, 'node registered');
    }

    const nodeInfo = new Map(policyNodes.map((n) => [n.id, n]));
    const gate = new AdmissionGate({
      policy: () => options.admission?.policy ?? access.engine,
      ledger: options.admission?.ledger ?? ledger,
      nodeInfo: (id) => nodeInfo.get(id) ?? { id, kind: 'unknown' },
      logger,
      delta: config.privacy.delta,
      maxRequestRho: config.maxRequestRho,
    });
    const myProbe = chargeUnits({ rho: config.privacy.rho, delta: 0 });
    const headersFor = grantHeaders(signer, now);
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
        budgets: async (p, nodes) => {
          const b = await ledger.budgetsOf(p.member.id, nodes, myProbe);
          return { nodes: b.nodes.map((x) => budgetView(x, config.privacy.delta)), federation: federationBudgetView(b.federation, config.privacy.delta) };
        },
        reload: reloadPolicies,
      },
      ...(options.scatter ? { scatter: options.scatter(headersFor) } : {}),
      ...(options.entropy ? { entropy: options.entropy } : {}),
      ...(options.extraSubgraphs ? { extraSubgraphs: options.extraSubgraphs } : {}),
      ...(options.onReferenceRequest ? { onReferenceRequest: options.onReferenceRequest } : {}),
      today: () => now().toISOString().slice(0, 10),
    });

    let requests = 0;
    const server = http.createServer();
    server.keepAliveTimeout = 65_000;
    const apollo = new ApolloServer<GatewayContext>({
      gateway: federation.gateway,
      formatError: makeFormatError(logger),
      includeStacktraceInErrorResponses: false,
      introspection: true,
      // Compact JSON: answers have hundreds of cells, and Apollo's default pretty-printing doubles them.
      stringifyResult: (value) => JSON.stringify(value),
      plugins: [ApolloServerPluginDrainHttpServer({ httpServer: server }), ApolloServerPluginLandingPageDisabled()],
    });
    await apollo.start();
    const authenticate = (authorization: string | undefined) => authenticator.authenticate(authorization);
    server.on(
      'request',
      createRequestListener<GatewayContext, Principal>(apollo, {
        logger,
        authenticate,
        context: async (req, principal) => ({ requestId: `r${++requests}`, headers: req.headers, principal }),
        documents: { [GRANT_KEYS_PATH]: () => signer.jwks },
        // the questions that reserve budget weigh most in a request's cost
        limits: { ...DEFAULT_REQUEST_LIMITS, weights: Object.fromEntries(Object.keys(ANSWER_TYPE).map((q) => [q, QUESTION_WEIGHT])) },
      }),
    );

    const timer =
      config.refreshIntervalMs > 0 && !options.scatter
        ? setInterval(() => {
            void registry.refresh();
          }, config.refreshIntervalMs).unref()
        : undefined;
    let closing: Promise<void> | undefined;
    return {
      config,
      registry,
      federation,
      apollo,
      access,
      ledger,
      signer,
      server,
      authenticate,
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
          server.closeAllConnections();
          if (server.listening) server.close();
          client.close();
          logger.debug({ event: 'closing', step: 'ledger' }, 'closing the ledger');
          await ledger.close();
          logger.debug({ event: 'closing', step: 'done' }, 'gateway closed');
        })()),
    };
  } catch (e) {
    client.close();
    await ledger.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Listens on `port` (0 picks a free one) and `host`, as configured unless given; resolves the
 * GraphQL endpoint's URL. Rejects with the listen error (e.g. EADDRINUSE).
 */
export async function listenGateway(built: BuiltGateway, port = built.config.port, host = built.config.host): Promise<Gateway> {
  return Object.assign(built, { url: `${await listen(built.server, port, host)}/graphql` });
}

/** {@link buildGateway}, then {@link listenGateway}; closes what was built when listening fails. */
export async function createGateway(options: CreateGatewayOptions = {}): Promise<Gateway> {
  const built = await buildGateway(options);
  try {
    return await listenGateway(built);
  } catch (e) {
    await built.close();
    throw e;
  }
}
