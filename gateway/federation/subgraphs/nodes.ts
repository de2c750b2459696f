/**
 * The `nodes` subgraph: the analyst-facing aggregate surface of the member nodes.
 *
 * This is not the contribution protocol (that stays between the gateway and each node); it is
 * what analysts may ask of the nodes as one logical subgraph. Every field resolves to a noised
 * aggregate with its accuracy, privacy charge and coverage — no field returns a row, an
 * organisation, an indicator or free text. The executable schema runs inside the gateway; its
 * root resolvers scatter to the nodes through the injected pattern dependencies.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { AccordError } from '../../../schema/errors.js';
import { answerPattern, type PatternDeps } from '../../patterns/answer.js';
import type { PatternArgs } from '../../patterns/query.js';
import { BUDGET_TYPES_SDL, FEDERATION_LINK_SDL, QUORUM_ENUM_SDL } from './shared.js';

export const NODES_SUBGRAPH_NAME = 'nodes';

export const NODES_SDL = /* GraphQL */ `
${FEDERATION_LINK_SDL}

"What a pattern counts."
enum Measure {
  "Incidents. One organisation adds at most the deployment's maxPerPartition incidents to a cell."
  INCIDENTS
  "Distinct affected organisations. One organisation adds at most 1 to a cell."
  ORGANISATIONS
}

"A group-by dimension with a public key domain; every key of the domain is released."
enum PatternDimension {
  "ISO 3166-1 alpha-2 country code (e.g. FR)."
  COUNTRY
  "UN M49 region name (e.g. Europe)."
  REGION
  "UN M49 sub-region name (e.g. Western Europe)."
  SUBREGION
  "Sector id from the Accord sector taxonomy (e.g. energy)."
  SECTOR
  "ISO 8601 week, written YYYY-Www (needs filter.from and filter.to)."
  WEEK
  "Calendar month, written YYYY-MM (needs filter.from and filter.to)."
  MONTH
}

${QUORUM_ENUM_SDL}

${BUDGET_TYPES_SDL}

"Restricts the incidents counted. Every list is an 'in' filter; an absent field means no restriction; fields combine with AND."
input PatternFilter {
  "ISO 3166-1 alpha-2 codes."
  countries: [String!]
  "UN M49 region names."
  regions: [String!]
  "UN M49 sub-region names."
  subregions: [String!]
  "Sector ids."
  sectors: [String!]
  "First day counted, YYYY-MM-DD (inclusive)."
  from: String
  "Day after the last day counted, YYYY-MM-DD (exclusive)."
  to: String
}

type Query {
  """
  Counts across the member nodes your access policy allows, grouped by public dimensions, with
  differential-privacy noise added once after summing. Every key of the public domain implied by
  groupBy × filter is released (zero cells are noised too); at most the deployment's cell limit
  (default 5,000) — narrow the filter otherwise (INVALID_QUERY).

  Admission: your policy is checked per node (POLICY_DENIED names the rule), then the charge is
  reserved on your allocation and each node's cap (BUDGET_EXHAUSTED says what remains). An identical
  question over the same nodes in the same month is answered from the cache at no charge.
  """
  crossBorderPattern(
    "What to count."
    measure: Measure = INCIDENTS
    "Dimensions to group by, in the order cells vary (the last varies fastest). Empty: one total."
    groupBy: [PatternDimension!]!
    "Which incidents count."
    filter: PatternFilter
    "STRICT fails unless every node asked answers; BEST_EFFORT answers over those that did. Default: the deployment's."
    quorum: Quorum
    "Nodes to ask (every one must be allowed by your policy). Default: every node your policy allows for this question."
    nodes: [String!]
  ): PatternAnswer!
}

"A noised pattern with what it cost and how exact it is."
type PatternAnswer {
  "Fingerprint of the canonical question (hex SHA-256); identical questions share it."
  queryId: String!
  measure: Measure!
  groupBy: [PatternDimension!]!
  "One cell per key of the public domain, in a fixed order that depends only on the question."
  cells: [PatternCell!]!
  accuracy: Accuracy!
  charge: PrivacyCharge!
  coverage: Coverage!
  "True when this answer was served from the answer cache (nothing was charged)."
  cached: Boolean!
  "Your budget on every node asked, after this answer."
  remainingBudget: [NodeBudget!]!
}

"One group of a pattern. Key fields not in groupBy are null."
type PatternCell {
  country: String
  region: String
  subregion: String
  sector: String
  week: String
  month: String
  "Noised count, post-processed to max(0, rawValue)."
  value: Int!
  "Noised count as released by the mechanism; may be negative. Unbiased."
  rawValue: Int!
  "Lower end of the interval holding the true count with the stated confidence (clipped at 0)."
  low: Int!
  "Upper end of that interval (clipped at 0)."
  high: Int!
}

"How exact every cell of an answer is (all cells share one mechanism)."
type Accuracy {
  "Noise mechanism, e.g. discrete-gaussian."
  mechanism: String!
  "Noise scale: σ for the discrete Gaussian, t for the discrete Laplace."
  scale: Float!
  "Standard deviation of the noise of one cell."
  stdDev: Float!
  "Half-width of the interval: the true count lies in rawValue ± ci95 with probability ≥ confidence."
  ci95: Float!
  confidence: Float!
}

"The privacy this answer spent, charged to every node asked."
type PrivacyCharge {
  "ρ of ρ-zCDP."
  rho: Float!
  "ε of the equivalent (ε, δ)-DP statement."
  epsilon: Float!
  delta: Float!
}

"Which member nodes the answer covers."
type Coverage {
  "Every node asked (the admitted nodes your policy allows, or the ones the query named)."
  asked: [String!]!
  "Nodes whose partials are in the answer."
  answered: [String!]!
  "Nodes asked whose partials are not in the answer, with the reason."
  missing: [MissingNode!]!
  "True when every node asked is in the answer."
  complete: Boolean!
  "Admitted nodes your access policy left out of this question (never asked, never charged)."
  excluded: [PolicyExclusion!]!
}

"A node an access policy left out of an answer."
type PolicyExclusion {
  node: String!
  "FORBIDDEN (a forbid rule matched) or NO_PERMIT (no permit rule matched)."
  reason: String!
  "Ids (@id) of the forbid rules that matched."
  rules: [String!]!
}

"A member left out of an answer."
type MissingNode {
  node: String!
  "TIMEOUT, UNREACHABLE, INVALID_CONTRIBUTION, SDL_DRIFT or ERROR."
  reason: String!
  "The error code the node gave, when it gave one from the Accord catalog."
  code: String
}
`;

/** Context the fan-out data source passes to the local execution. */
export interface NodesExecutionContext {
  /** True only for incoming operations: the only fetches that may reach nodes. */
  scatterAllowed: boolean;
  /** The gateway's own request context (the authenticated caller). */
  incoming?: unknown;
}

/**
 * The executable analyst schema of the `nodes` subgraph. Its resolvers call
 * {@link answerPattern} with `deps`; they throw AccordError('INTERNAL') when the execution did not
 * come from an incoming operation (health checks and schema loads never reach nodes).
 */
export function buildNodesSchema(deps: PatternDeps): GraphQLSchema {
  const resolvers = {
    Query: {
      crossBorderPattern: (_: unknown, args: PatternArgs, ctx: NodesExecutionContext) => {
        if (!ctx?.scatterAllowed) throw new AccordError('INTERNAL', 'Only incoming operations may reach the nodes.');
        return answerPattern(args, deps, ctx.incoming);
      },
    },
  };
  return buildSubgraphSchema([{ typeDefs: parse(NODES_SDL), resolvers: resolvers as never }]);
}
