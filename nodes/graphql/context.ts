import type { ContributionService } from '../contribution/service.js';

/** Per-request GraphQL context of a node. */
export interface NodeContext {
  service: ContributionService;
  /** Raw value of the grant header, when present. */
  grant?: string;
  requestId: string;
}
