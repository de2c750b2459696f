/** Shared pieces of the gateway tests: a quiet logger, a GraphQL POST, the pattern selection. */
import { pino } from 'pino';

export { gql, type Amount, type Answer, type Cell, type GqlResult } from '../helpers/graphql.js';

export const quietLogger = pino({ level: 'silent' });

export const PATTERN_QUERY = /* GraphQL */ `
  query Pattern($measure: Measure, $groupBy: [PatternDimension!]!, $filter: PatternFilter, $quorum: Quorum, $nodes: [String!]) {
    crossBorderPattern(measure: $measure, groupBy: $groupBy, filter: $filter, quorum: $quorum, nodes: $nodes) {
      queryId
      measure
      groupBy
      cells { country region subregion sector week month value rawValue low high }
      accuracy { mechanism scale stdDev ci95 confidence }
      charge { rho epsilon delta }
      coverage { asked answered missing { node reason code } complete excluded { node reason rules } }
      cached
      remainingBudget { node horizonDays allocation { rho delta } spent { rho delta } remaining { rho delta } cumulative { epsilon delta } nodeCapAdmits }
    }
  }
`;

