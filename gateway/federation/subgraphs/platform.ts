/**
 * The `platform` subgraph: the gateway's own federation metadata (which nodes are members, their
 * admission status, the contract they must publish). Served in-process.
 */
import { LocalGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { contributionSdlHash } from '../../../schema/contract/index.js';
import type { QuorumMode } from '../../config.js';
import type { NodeRegistry, NodeSnapshot } from '../../registry/index.js';
import { QUORUM_ENUM_SDL } from './shared.js';

export const PLATFORM_SUBGRAPH_NAME = 'platform';

export const PLATFORM_SDL = /* GraphQL */ `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [])

${QUORUM_ENUM_SDL}

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
  url: String!
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
}
`;

function nodeView(n: NodeSnapshot) {
  return { ...n, lastSeen: n.lastSeen ? n.lastSeen.toISOString() : null };
}

/** The platform subgraph's in-process data source over `registry`. */
export function buildPlatformDataSource(registry: NodeRegistry, defaultQuorum: QuorumMode): LocalGraphQLDataSource {
  const resolvers = {
    Query: {
      federationNodes: () => registry.list().map(nodeView),
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
  return new LocalGraphQLDataSource(buildSubgraphSchema([{ typeDefs: parse(PLATFORM_SDL), resolvers: resolvers as never }]));
}
