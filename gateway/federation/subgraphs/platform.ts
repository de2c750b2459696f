/**
 * The `platform` subgraph: the gateway's own federation metadata (which nodes are members, their
 * admission status, the contract they must publish), the caller's identity and budgets, and the
 * staff-only policy reload. Served in-process.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { Logger } from 'pino';
import { contributionSdlHash } from '../../../schema/contract/index.js';
import { AccordError } from '../../../schema/errors.js';
import type { GatewayContext, Principal } from '../../context.js';
import type { QuorumMode } from '../../config.js';
import type { FederationBudget, NodeBudget } from '../../ledger/budget-view.js';
import type { ReloadResult } from '../../policy/store.js';
import type { NodeRegistry, NodeSnapshot } from '../../registry/index.js';
import { CatalogLocalDataSource } from '../local-datasource.js';
import { BUDGET_TYPES_SDL, FEDERATION_LINK_SDL, QUORUM_ENUM_SDL } from './shared.js';

export const PLATFORM_SUBGRAPH_NAME = 'platform';

export const PLATFORM_SDL = /* GraphQL */ `
${FEDERATION_LINK_SDL}

${QUORUM_ENUM_SDL}

${BUDGET_TYPES_SDL}

"The authenticated caller."
type Me {
  "Member id (the token's sub)."
  id: String!
  name: String!
  "UN M49 region."
  region: String!
  groups: [String!]!
  "Highest TLP level counted in your answers."
  tlpCeiling: String!
  "Platform staff (may reload policies)."
  staff: Boolean!
}

"The outcome of a policy reload."
type PolicyReload {
  "False when the new configuration was refused; the previous one stays in force."
  ok: Boolean!
  "Version of the configuration in force."
  version: Int!
  "Ids of the policies in force."
  policies: [String!]!
  "Registered members in force."
  members: Int!
  "Why the reload was refused."
  errors: [String!]!
}

"Admission status of a member node."
enum NodeStatus {
  "Registered, not checked yet."
  PENDING
  "Publishes the contract SDL and answered its last contact."
  ACTIVE
  "Did not answer its last contact; still a member (strict-quorum queries fail while it is down)."
  UNREACHABLE
  "Publishes a contribution SDL other than the contract; never asked."
  REFUSED_SDL_DRIFT
}

"A registered node."
type FederationNode {
  id: ID!
  name: String!
  "national-cert, sector-isac, …"
  kind: String!
  "The node's internal endpoint: platform staff only (null for members; the topology is not theirs to see)."
  url: String
  status: NodeStatus!
  "SHA-256 of the canonical SDL the node last published (null until it published one)."
  sdlHash: String
  "Last successful contact, ISO 8601 (null if never)."
  lastSeen: String
}

"Overall state of the federation."
enum HealthStatus {
  "Every registered node is active."
  OK
  "Some registered node is not active."
  DEGRADED
  "No node is active."
  DOWN
}

type FederationHealth {
  status: HealthStatus!
  registered: Int!
  "Members that queries ask (registered and not refused)."
  admitted: Int!
  active: Int!
  unreachable: Int!
  refused: Int!
  "The hash every node's contribution SDL must have."
  contractSdlHash: String!
  "Quorum used when a query names none."
  defaultQuorum: Quorum!
}

type Query {
  "Every registered node with its admission status."
  federationNodes: [FederationNode!]!
  "Counts of nodes by status."
  federationHealth: FederationHealth!
  "Who you are, as the gateway sees your token."
  me: Me!
  "Your own budget on every admitted node over the privacy horizon."
  myBudget: [NodeBudget!]!
  "Your own federation-wide budget over the privacy horizon; null where each organisation is at one node only (K = 1)."
  myFederationBudget: FederationBudget
}

type Mutation {
  "Platform staff only: re-read members, access policies and budgets. A configuration that fails validation is refused and the previous one stays in force."
  reloadPolicies: PolicyReload!
}
`;

/** What the platform subgraph needs besides the registry. */
export interface PlatformAccess {
  /** The caller's own budgets on `nodes` and federation-wide (null with K = 1), over the horizon ending now. */
  budgets(principal: Principal, nodes: readonly string[]): Promise<{ nodes: NodeBudget[]; federation: FederationBudget | null }>;
  /** Reloads the access configuration (the caller is staff). */
  reload(): ReloadResult;
}

/** The caller of a platform fetch: Apollo hands every subgraph the request's GatewayContext. */
function callerOf(context: Partial<GatewayContext> | undefined): Principal {
  const p = context?.principal;
  if (!p) throw new AccordError('UNAUTHENTICATED', 'Send a member token: "Authorization: Bearer <JWT>".');
  return p;
}

function nodeView(n: NodeSnapshot) {
  return { ...n, lastSeen: n.lastSeen ? n.lastSeen.toISOString() : null };
}

/** The platform subgraph's in-process data source over `registry` and `access`. */
export function buildPlatformDataSource(registry: NodeRegistry, defaultQuorum: QuorumMode, access: PlatformAccess | undefined, logger: Logger): CatalogLocalDataSource {
  const needAccess = (): PlatformAccess => {
    if (!access) throw new AccordError('INTERNAL', 'This gateway runs without access control.');
    return access;
  };
  const resolvers = {
    Mutation: {
      reloadPolicies: (_: unknown, __: unknown, ctx: Partial<GatewayContext>) => {
        const caller = callerOf(ctx);
        if (!caller.staff) {
          throw new AccordError('POLICY_DENIED', 'Only platform staff may reload policies (a token with roles: ["staff"]).', { rule: 'platform-staff-only', rules: ['platform-staff-only'] });
        }
        const result = needAccess().reload();
        logger.info({ event: 'policy-reload', by: caller.member.id, ok: result.ok, version: result.version, errors: result.errors }, 'access configuration reload requested');
        return result;
      },
    },
    Query: {
      me: (_: unknown, __: unknown, ctx: Partial<GatewayContext>) => {
        const { member, staff } = callerOf(ctx);
        return { ...member, staff };
      },
      myBudget: async (_: unknown, __: unknown, ctx: Partial<GatewayContext>) => (await needAccess().budgets(callerOf(ctx), registry.admitted().map((n) => n.id))).nodes,
      myFederationBudget: async (_: unknown, __: unknown, ctx: Partial<GatewayContext>) => (await needAccess().budgets(callerOf(ctx), [])).federation,
      federationNodes: (_: unknown, __: unknown, ctx: Partial<GatewayContext>) => {
        const staff = ctx.principal?.staff === true;
        return registry.list().map((n) => ({ ...nodeView(n), url: staff ? n.url : null }));
      },
      federationHealth: () => {
        const nodes = registry.list();
        const count = (s: NodeSnapshot['status']) => nodes.filter((n) => n.status === s).length;
        const active = count('ACTIVE');
        return {
          status: nodes.length > 0 && active === nodes.length ? 'OK' : active === 0 ? 'DOWN' : 'DEGRADED',
          registered: nodes.length,
          admitted: nodes.length - count('REFUSED_SDL_DRIFT'),
          active,
          unreachable: count('UNREACHABLE') + count('PENDING'),
          refused: count('REFUSED_SDL_DRIFT'),
          contractSdlHash: contributionSdlHash,
          defaultQuorum,
        };
      },
    },
  };
  return new CatalogLocalDataSource(buildSubgraphSchema([{ typeDefs: parse(PLATFORM_SDL), resolvers: resolvers as never }]), logger);
}
