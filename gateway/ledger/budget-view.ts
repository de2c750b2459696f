/**
 * A member's budgets as answers and the platform subgraph show them (numbers, not ledger units):
 * the caller's own allocation, spending and what remains over the horizon, the cumulative (ε, δ)
 * of that spending, and — for caps other members share — only whether they admit a question.
 */
import { chargeToDp, LIMITS, up } from '../../schema/privacy/index.js';
import type { FederationBudgetUnits, NodeBudgetUnits } from './ledger.js';
import { fromUnits, type Units } from './units.js';

/** An (ε, δ)-DP statement. */
export interface PrivacyLoss {
  epsilon: number;
  delta: number;
}

interface OwnBudget {
  horizonDays: number;
  allocation: { rho: number; delta: number };
  spent: { rho: number; delta: number };
  remaining: { rho: number; delta: number };
  /** `spent` over the horizon as (ε, δ)-DP at the deployment's conversion δ. */
  cumulative: PrivacyLoss;
}

/** The asking member's budget on one node over the horizon. */
export interface NodeBudget extends OwnBudget {
  node: string;
  nodeCapAdmits: boolean;
}

/** The asking member's federation-wide budget over the horizon (K > 1). */
export interface FederationBudget extends OwnBudget {
  capAdmits: boolean;
}

/**
 * The (ε, δ)-DP statement of a cumulative spend (ρ, δ₀) at conversion δ: `chargeToDp` (the tighter
 * of Bun & Steinke 2016 Prop. 1.3 and CKS20 Cor. 13) within the privacy core's ρ range; beyond it
 * Bun & Steinke Prop. 1.3, ε = ρ + 2√(ρ ln(1/δ)), rounded up. Never below the exact value.
 */
export function cumulativeDp(spent: Units, delta: number): PrivacyLoss {
  const s = fromUnits(spent);
  if (s.rho <= LIMITS.maxRho) return chargeToDp(s, delta);
  return { epsilon: up(s.rho + up(2 * up(Math.sqrt(up(s.rho * up(-Math.log(delta), 2))))), 1), delta: up(s.delta + delta) };
}

function own(b: NodeBudgetUnits | FederationBudgetUnits, delta: number): OwnBudget {
  return { horizonDays: b.horizonDays, allocation: fromUnits(b.allocation), spent: fromUnits(b.spent), remaining: fromUnits(b.remaining), cumulative: cumulativeDp(b.spent, delta) };
}

/** A ledger budget in ρ/δ numbers; `delta` is the deployment's conversion δ. */
export function budgetView(b: NodeBudgetUnits, delta: number): NodeBudget {
  return { node: b.node, ...own(b, delta), nodeCapAdmits: b.nodeCapAdmits };
}

/** The federation-wide budget in ρ/δ numbers, or null (K = 1). */
export function federationBudgetView(b: FederationBudgetUnits | null, delta: number): FederationBudget | null {
  return b === null ? null : { ...own(b, delta), capAdmits: b.capAdmits };
}
