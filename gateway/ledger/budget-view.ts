/** A member's budget on one node as answers and the platform subgraph show it (numbers, not ledger units). */
import type { NodeBudgetUnits } from './ledger.js';
import { fromUnits } from './units.js';

/** One node's budget for the asking member in the current period (numbers in ρ and δ). */
export interface NodeBudget {
  node: string;
  period: string;
  allocation: { rho: number; delta: number };
  spent: { rho: number; delta: number };
  remaining: { rho: number; delta: number };
  nodeCap: { rho: number; delta: number };
  nodeRemaining: { rho: number; delta: number };
}

/** A ledger budget in ρ/δ numbers. */
export function budgetView(b: NodeBudgetUnits): NodeBudget {
  return {
    node: b.node,
    period: b.period,
    allocation: fromUnits(b.allocation),
    spent: fromUnits(b.spent),
    remaining: fromUnits(b.remaining),
    nodeCap: fromUnits(b.nodeCap),
    nodeRemaining: fromUnits(b.nodeRemaining),
  };
}
