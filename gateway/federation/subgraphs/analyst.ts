/**
 * The `analyst` subgraph: the analyst-facing aggregate surface of the member nodes, the six questions.
 *
 * This is not the contribution protocol (that stays between the gateway and each node); it is
 * what analysts may ask of the nodes as one logical subgraph. Every field resolves to a noised
 * aggregate with its accuracy, privacy charge and coverage — no field returns a row, an
 * organisation, an indicator or free text. The executable schema runs inside the gateway; its
 * root resolvers answer through the aggregate core (`aggregate/answer.ts`) and shape each answer
 * (`aggregate/questions.ts`).
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  getArgumentValues,
  getDirectiveValues,
  getOperationAST,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentSpreadNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { AccordError } from '../../../schema/errors.js';
import { answerAll, type AggregateDeps } from '../../aggregate/answer.js';
import { type AggregateAnswer, type AggregateCell } from '../../aggregate/answer-types.js';
import type { AggregateArgs, QuestionKind } from '../../aggregate/query.js';
import {
  impactArgs,
  prevalenceArgs,
  shapeImpact,
  shapePattern,
  shapePrevalence,
  shapeTopK,
  shapeTrend,
  shapeVintages,
  topKArgs,
  trendArgs,
  vintageArgs,
  type Envelope,
  type ImpactArgs,
  type PrevalenceArgs,
  type TopKArgs,
  type TrendArgs,
  type VintageArgs,
} from '../../aggregate/questions.js';
import type { GatewayContext } from '../../context.js';
import { BUDGET_TYPES_SDL, QUORUM_ENUM_SDL } from './shared.js';

export interface AnalystSchemaOptions {
  /** The federation indicator key (indicatorPrevalence); absent: that question is refused with INDICATORS_UNAVAILABLE. */
  indicatorKey?: string;
  /** Today's UTC date, YYYY-MM-DD (tests); the clock by default. */
  today?: () => string;
}

export const ANALYST_SUBGRAPH_NAME = 'analyst';

/** The NoisedAnswer fields every answer type repeats after its own (documented on the interface). */
const ANSWER_ENVELOPE_FIELDS = `accuracy: Accuracy!
  charge: PrivacyCharge!
  coverage: Coverage!
  selection: Selection
  cached: Boolean!
  remainingBudget: [NodeBudget!]!`;

export const ANALYST_SDL = /* GraphQL */ `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable", "@key"])

"What an aggregate counts."
enum Measure {
  "Incidents. One organisation adds at most the deployment's maxPerPartition incidents to a cell."
  INCIDENTS
  "Distinct affected organisations. One organisation adds at most 1 to a cell."
  ORGANISATIONS
  "Incidents with their severity sum and disruption count (sectorImpact only)."
  IMPACT
}

"""
A group-by dimension. Keys of public dimensions (geography, sector, time, TLP, vintage, KEV CVEs,
catalogued actors) are all released, zero cells included. Keys that only node data holds (tool and
malware family names, CVEs outside the KEV catalog, uncatalogued actors) are released only when
their noisy count passes partition selection (see selection in the answer); listing them in the
filter makes them public keys of the question instead.
"""
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
  "Exploited vulnerability (CVE id): the KEV catalog is public; other CVEs go through partition selection."
  EXPLOIT
  "Tool or malware family name (node data: partition selection unless filter.tools lists them)."
  TOOL
  "Threat actor: catalogued names are public; others go through partition selection."
  ACTOR
  "TLP level the incident carries (CLEAR, GREEN or AMBER; AMBER+STRICT and RED never leave a node)."
  TLP
  "Exploit vintage: incident date minus the exploit's disclosure date, in public buckets."
  VINTAGE
}

"Exploit vintage buckets (d = incident date − disclosure date, in days)."
enum Vintage {
  "d ≤ 0: exploited on or before the day it was disclosed."
  ZERO_DAY
  "1 ≤ d < 30."
  UNDER_30_DAYS
  "30 ≤ d < 365."
  UNDER_1_YEAR
  "365 ≤ d < 1095."
  ONE_TO_3_YEARS
  "d ≥ 1095."
  OVER_3_YEARS
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
  "CVE ids: incidents that exploited one of them."
  exploits: [String!]
  "Tool or malware family names: incidents that used one of them."
  tools: [String!]
  "Actor names (catalog names or synonyms): incidents attributed to one of them."
  actors: [String!]
  "TLP levels counted (CLEAR, GREEN, AMBER), within your TLP ceiling."
  tlp: [String!]
  "First day counted, YYYY-MM-DD (inclusive)."
  from: String
  "Day after the last day counted, YYYY-MM-DD (exclusive)."
  to: String
}

"A public KEV vulnerability, resolved by the reference subgraph."
type Vulnerability @key(fields: "cve", resolvable: false) {
  cve: String!
}

"A country, resolved by the reference subgraph."
type Country @key(fields: "code", resolvable: false) {
  code: String!
}

"A sector of the Accord taxonomy, resolved by the reference subgraph."
type Sector @key(fields: "id", resolvable: false) {
  id: String!
}

type Query {
  """
  Counts across the member nodes your access policy allows, grouped by any dimensions, with
  differential-privacy noise added once after summing. Every public key implied by groupBy × filter
  is released (zero cells are noised too), at most the deployment's cell limit (default 5,000) —
  narrow the filter otherwise (INVALID_QUERY). Node-data keys are added when they pass partition
  selection.

  Admission: your policy is checked per node (POLICY_DENIED names the rule), then the charge is
  reserved on your allocation and each node's cap (BUDGET_EXHAUSTED says what remains). An identical
  question over the same nodes in the same month is answered from the cache at no charge.
  """
  crossBorderPattern(
    "What to count: INCIDENTS or ORGANISATIONS."
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

  """
  A time series for one filter: one bucket per week or month of filter.from..filter.to, each with
  its noise, and a change flag where consecutive buckets differ by more than noise explains (their
  95% intervals do not overlap). Same charge as the equivalent crossBorderPattern (and the same
  cached answer).
  """
  trend(measure: Measure = INCIDENTS, interval: TrendInterval!, filter: PatternFilter!, quorum: Quorum, nodes: [String!]): TrendAnswer!

  """
  The k exploits (CVE), tools or actors with the largest noisy counts in the filter's window.
  Method: one noisy count per public key (KEV CVEs, catalogued actors) and per node-data key that
  passes partition selection, ranked (post-processing). Default measure ORGANISATIONS: how many
  organisations were hit.
  """
  topK(k: Int!, by: TopKDimension!, measure: Measure = ORGANISATIONS, filter: PatternFilter, quorum: Quorum, nodes: [String!]): TopKAnswer!

  """
  How old the exploited vulnerabilities were when exploited: counts per vintage bucket (ZERO_DAY …
  OVER_3_YEARS), overall or per sector / region / sub-region / country, with each bucket's share of
  its group. One key per (incident, vulnerability with a known disclosure date) bucket.
  """
  exploitVintages(by: [VintageGrouping!] = [], measure: Measure = INCIDENTS, filter: PatternFilter, quorum: Quorum, nodes: [String!]): VintageAnswer!

  """
  Mean severity (1–5) and the share of incidents that disrupted an essential service, per sector
  (or the dimensions given). Three noisy releases per cell — bounded incident count, clamped
  severity sum, disruption count — with ρ split equally (split in the answer); the ratios are
  post-processing with intervals at ≥ 95%.
  """
  sectorImpact(groupBy: [ImpactDimension!] = [SECTOR], filter: PatternFilter, quorum: Quorum, nodes: [String!]): ImpactAnswer!

  """
  How many organisations across the federation reported this indicator in the last \`days\` days
  (today included, UTC). The gateway normalises and hashes the value under the federation indicator
  key; nodes match the keyed hash and never see the value. The answer is a noised count: it never
  says which node or organisation, and every question is charged like any other.
  """
  indicatorPrevalence(indicator: IndicatorInput!, days: Int = 30, quorum: Quorum, nodes: [String!]): PrevalenceAnswer!
}

enum TrendInterval {
  WEEK
  MONTH
}

enum TopKDimension {
  EXPLOIT
  TOOL
  ACTOR
}

enum VintageGrouping {
  SECTOR
  REGION
  SUBREGION
  COUNTRY
}

enum ImpactDimension {
  SECTOR
  REGION
  SUBREGION
  COUNTRY
  MONTH
  TLP
}

"An indicator to look up: a STIX cyber-observable type and its value."
input IndicatorInput {
  "ipv4-addr, ipv6-addr, domain-name, url, email-addr, file:md5, file:sha1, file:sha256, file:sha512 or mac-addr."
  type: String!
  "The value; normalised (case, trailing dot, IPv4 leading zeros) before hashing."
  value: String!
}

"What every answer carries besides its values."
interface NoisedAnswer {
  "Fingerprint of the canonical aggregate (hex SHA-256); identical aggregates share it (and the cache)."
  queryId: String!
  measure: Measure!
  "Noise of every count in the answer."
  accuracy: Accuracy!
  charge: PrivacyCharge!
  coverage: Coverage!
  "How node-data keys were released; null when every key is public."
  selection: Selection
  "True when this answer was served from the answer cache (nothing was charged)."
  cached: Boolean!
  "Your budget on every node asked, after this answer."
  remainingBudget: [NodeBudget!]!
}

"A noised pattern with what it cost and how exact it is."
type PatternAnswer implements NoisedAnswer {
  queryId: String!
  measure: Measure!
  groupBy: [PatternDimension!]!
  "Every public key in a fixed order that depends only on the question, then the selected node-data keys sorted."
  cells: [PatternCell!]!
  ${ANSWER_ENVELOPE_FIELDS}
}

"One group of a pattern. Key fields not in groupBy are null."
type PatternCell {
  country: String
  region: String
  subregion: String
  sector: String
  week: String
  month: String
  "The exploited vulnerability; its KEV details come from the reference subgraph."
  exploit: Vulnerability
  tool: String
  actor: String
  tlp: String
  vintage: Vintage
  "The country's reference entry (name, region…)."
  countryInfo: Country
  "The sector's reference entry."
  sectorInfo: Sector
  "Noised count, post-processed to max(0, rawValue)."
  value: Int!
  "Noised count as released by the mechanism; may be negative. Unbiased."
  rawValue: Int!
  "Standard deviation of the noise in rawValue."
  stdDev: Float!
  "Lower end of the 95% interval for the true count (rawValue − ci95, clipped at 0)."
  low: Int!
  "Upper end of that interval (clipped at 0)."
  high: Int!
  "True when the key came from node data and passed partition selection."
  selected: Boolean!
}

"A noised count with its accuracy."
type Estimate {
  "Noised count, post-processed to max(0, rawValue)."
  value: Int!
  "Noised count as released; may be negative. Unbiased."
  rawValue: Int!
  stdDev: Float!
  "95% interval for the true count (clipped at 0)."
  low: Int!
  high: Int!
}

"Partition selection of keys that only node data holds."
type Selection {
  "gaussian-threshold: a node-data key is released only when its noisy count is ≥ threshold."
  method: String!
  "τ: a key held by one organisation reaches it with probability ≤ delta / maxPartitions."
  threshold: Int!
  "δ spent on the selection (part of charge.delta)."
  delta: Float!
  "How many node-data keys were released."
  released: Int!
}

type TrendAnswer implements NoisedAnswer {
  queryId: String!
  measure: Measure!
  interval: TrendInterval!
  "One bucket per week or month of the window, in time order."
  buckets: [TrendBucket!]!
  "Buckets whose change from the previous one exceeds the noise (UP or DOWN)."
  significantChanges: Int!
  ${ANSWER_ENVELOPE_FIELDS}
}

"How a bucket compares with the previous one."
enum TrendChange {
  "The first bucket."
  FIRST
  "Above the previous bucket by more than noise explains: the intervals do not overlap."
  UP
  "Below the previous bucket by more than noise explains."
  DOWN
  "The intervals overlap: the difference may be noise."
  WITHIN_NOISE
}

type TrendBucket {
  "YYYY-Www or YYYY-MM."
  period: String!
  value: Int!
  rawValue: Int!
  stdDev: Float!
  low: Int!
  high: Int!
  change: TrendChange!
}

type TopKAnswer implements NoisedAnswer {
  queryId: String!
  measure: Measure!
  by: TopKDimension!
  k: Int!
  "How the ranking was computed and why it is private."
  method: String!
  "At most k entries, largest noisy count first."
  entries: [TopKEntry!]!
  ${ANSWER_ENVELOPE_FIELDS}
}

type TopKEntry {
  rank: Int!
  exploit: Vulnerability
  tool: String
  actor: String
  "True when the key came from node data and passed partition selection."
  selected: Boolean!
  value: Int!
  rawValue: Int!
  stdDev: Float!
  low: Int!
  high: Int!
}

type VintageAnswer implements NoisedAnswer {
  queryId: String!
  measure: Measure!
  by: [VintageGrouping!]!
  "Per group (in the order of by), the five buckets in age order."
  cells: [VintageCell!]!
  ${ANSWER_ENVELOPE_FIELDS}
}

type VintageCell {
  vintage: Vintage!
  sector: String
  region: String
  subregion: String
  country: String
  sectorInfo: Sector
  value: Int!
  rawValue: Int!
  stdDev: Float!
  low: Int!
  high: Int!
  "value ÷ the sum of the group's values (null when that sum is 0); post-processing."
  share: Float
}

type ImpactAnswer implements NoisedAnswer {
  queryId: String!
  measure: Measure!
  groupBy: [ImpactDimension!]!
  cells: [ImpactCell!]!
  "Noise of the severity sums (in severity points); accuracy is the noise of the incident counts."
  severitySumAccuracy: Accuracy!
  "Noise of the disruption counts."
  disruptionAccuracy: Accuracy!
  "How ρ is split between the three releases."
  split: BudgetSplit!
  ${ANSWER_ENVELOPE_FIELDS}
}

"Shares of the query's ρ."
type BudgetSplit {
  count: Float!
  sum: Float!
  disrupted: Float!
}

type ImpactCell {
  sector: String
  region: String
  subregion: String
  country: String
  month: String
  tlp: String
  sectorInfo: Sector
  "Bounded incident count (the denominator)."
  incidents: Estimate!
  "Mean severity 1–5: noisy severity sum ÷ noisy count."
  meanSeverity: Ratio!
  "Share of incidents that disrupted an essential service: noisy disruption count ÷ noisy count."
  disruptionShare: Ratio!
  "Noised severity sum, unclipped."
  rawSeveritySum: Int!
  "Noised disruption count, unclipped."
  rawDisrupted: Int!
}

"A ratio of two noisy releases (post-processing)."
type Ratio {
  "Null when the noisy count is below 1."
  value: Float
  "Delta-method approximation."
  stdDev: Float
  "Interval holding the true ratio with probability ≥ confidence (each part at 97.5%, union bound); the whole range when the count is too noisy."
  low: Float!
  high: Float!
  confidence: Float!
}

type PrevalenceAnswer implements NoisedAnswer {
  queryId: String!
  measure: Measure!
  indicatorType: String!
  window: DateWindow!
  "Distinct organisations that reported the indicator in the window."
  organisations: Estimate!
  ${ANSWER_ENVELOPE_FIELDS}
}

type DateWindow {
  "First day, YYYY-MM-DD (inclusive)."
  from: String!
  "Day after the last, YYYY-MM-DD (exclusive)."
  to: String!
  days: Int!
}

"How exact every count of an answer is (all counts share one mechanism)."
type Accuracy {
  "Noise mechanism, e.g. discrete-gaussian."
  mechanism: String!
  "Noise scale: σ for the discrete Gaussian, t for the discrete Laplace."
  scale: Float!
  "Standard deviation of the noise of one count."
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
  "δ of that statement (partition selection's δ included)."
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

/** One question of an operation once admitted: its answer (scatter and gather under way) and its shaping. */
interface AdmittedField {
  answer: Promise<AggregateAnswer>;
  shape(answer: AggregateAnswer): unknown;
}

/** Context the fan-out data source passes to the local execution. */
export interface AnalystExecutionContext {
  /**
   * The analyst's request, for incoming operations only: the only fetches that may reach nodes.
   * Absent for Apollo's health-check and schema-load fetches.
   */
  caller?: GatewayContext;
  /** The operation's questions, admitted together before execution, by response key (alias or name). */
  admitted?: ReadonlyMap<string, AdmittedField>;
}

/** The analyst surface: its executable schema, and the admission of one operation's questions. */
export interface Analyst {
  schema: GraphQLSchema;
  /**
   * Admits every question the operation asks (root fields, aliases, fragments, @skip/@include
   * applied) together — one refusal refuses them all, and nothing is reserved or sent unless all
   * are admitted — and starts answering them. Resolves to the execution context the resolvers read.
   * Throws what {@link answerAll} throws, INVALID_QUERY for arguments the questions refuse.
   */
  admit(document: DocumentNode, request: { variables?: Record<string, unknown> | null; operationName?: string | null }, caller: GatewayContext): Promise<AnalystExecutionContext>;
}

/** A question's arguments as an aggregate, and how its answer is shaped (questions.ts). */
type Question = (args: never, today: () => string) => { args: AggregateArgs; shape(answer: AggregateAnswer): unknown };

/**
 * The analyst schema over `deps`. Its root resolvers only shape answers that {@link Analyst.admit}
 * started; they throw AccordError('INTERNAL') when the execution was not admitted (health checks
 * and schema loads never reach nodes).
 */
export function buildAnalyst(deps: AggregateDeps, options: AnalystSchemaOptions = {}): Analyst {
  const today = options.today ?? (() => new Date().toISOString().slice(0, 10));
  const questions: Record<QuestionKind, Question> = {
    crossBorderPattern: (a: AggregateArgs) => ({ args: { ...a, question: 'crossBorderPattern' }, shape: (r) => shapePattern(r, a.groupBy) }),
    trend: (a: TrendArgs) => ({ args: trendArgs(a), shape: (r) => shapeTrend(r, a.interval) }),
    topK: (a: TopKArgs) => ({ args: topKArgs(a), shape: (r) => shapeTopK(r, a.by, a.k) }),
    exploitVintages: (a: VintageArgs) => ({ args: vintageArgs(a), shape: (r) => shapeVintages(r, a.by ?? []) }),
    sectorImpact: (a: ImpactArgs) => ({ args: impactArgs(a), shape: (r) => shapeImpact(r, a.groupBy ?? ['SECTOR']) }),
    indicatorPrevalence: (a: PrevalenceArgs, day) => {
      const p = prevalenceArgs(a, options.indicatorKey, day());
      return { args: p.args, shape: (r) => shapePrevalence(r, p.type, p.window) };
    },
  };
  const answerOf = async (ctx: AnalystExecutionContext, info: GraphQLResolveInfo): Promise<unknown> => {
    const field = ctx.admitted?.get(info.path.key as string);
    if (!field) throw new AccordError('INTERNAL', 'Only admitted incoming operations may reach the nodes.');
    return field.shape(await field.answer);
  };
  const entity = (typename: string, key: string) => (value: string | null) => (value === null ? null : { __typename: typename, [key]: value });
  const vulnerability = entity('Vulnerability', 'cve');
  const country = entity('Country', 'code');
  const sector = entity('Sector', 'id');
  const root = (_: unknown, __: unknown, ctx: AnalystExecutionContext, info: GraphQLResolveInfo) => answerOf(ctx, info);
  const resolvers = {
    Query: Object.fromEntries(Object.keys(questions).map((q) => [q, root])),
    // Each answer is shaped with its GraphQL type (questions.ts, ANSWER_TYPE).
    NoisedAnswer: { __resolveType: (a: Envelope) => a.__typename },
    PatternCell: {
      exploit: (c: AggregateCell) => vulnerability(c.exploit),
      countryInfo: (c: AggregateCell) => country(c.country),
      sectorInfo: (c: AggregateCell) => sector(c.sector),
    },
    TopKEntry: { exploit: (e: { exploit: string | null }) => vulnerability(e.exploit) },
    VintageCell: { sectorInfo: (c: { sector: string | null }) => sector(c.sector) },
    ImpactCell: { sectorInfo: (c: { sector: string | null }) => sector(c.sector) },
  };
  const schema = buildSubgraphSchema([{ typeDefs: parse(ANALYST_SDL), resolvers: resolvers as never }]);
  const queryType = schema.getQueryType()!;

  return {
    schema,
    async admit(document, request, caller) {
      const operation = getOperationAST(document, request.operationName ?? undefined);
      if (!operation) throw new AccordError('INVALID_QUERY', 'The operation to run is not in the document; name it with operationName.');
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
      if (coerced.errors) throw new AccordError('INVALID_QUERY', coerced.errors.map((e) => e.message).join(' '));
      const fields = rootFields(document, operation, coerced.coerced).filter((f) => f.name.value in questions);
      const prepared = fields.map((f) => {
        const def = queryType.getFields()[f.name.value]!;
        return questions[f.name.value as QuestionKind](getArgumentValues(def, f, coerced.coerced) as never, today);
      });
      const answers = await answerAll(
        prepared.map((p) => p.args),
        deps,
        caller,
      );
      return { caller, admitted: new Map(fields.map((f, i) => [(f.alias ?? f.name).value, { answer: answers[i]!, shape: prepared[i]!.shape }])) };
    },
  };
}

/** The root fields an operation selects, fragments expanded and @skip/@include applied, in order. */
function rootFields(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): FieldNode[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const included = (node: FieldNode | FragmentSpreadNode | InlineFragmentNode) =>
    getDirectiveValues(GraphQLSkipDirective, node, variables)?.if !== true && getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  const out: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode): void => {
    for (const s of set.selections) {
      if (!included(s)) continue;
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) walk(f.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  // a response key asked twice is one field (GraphQL merges them); admit it once
  const byKey = new Map<string, FieldNode>();
  for (const f of out) if (!byKey.has((f.alias ?? f.name).value)) byKey.set((f.alias ?? f.name).value, f);
  return [...byKey.values()];
}
