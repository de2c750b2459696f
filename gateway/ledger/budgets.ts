/**
 * Budget configuration (DESIGN §3). Every cap applies to the charges made over the privacy horizon
 * (a rolling window, 365 days by default; `Ledger`):
 *
 * - the node operators' caps (per node, on what a node's data may leak to the whole federation);
 * - platform staff's allocations (per member per node, within those caps);
 * - with K > 1 (organisations reported to several nodes), the federation cap (every fresh answer
 *   charges it once, whatever nodes it asks: it bounds each organisation's total) and staff's
 *   federation-wide allocation per member within it.
 *
 * File form (JSON; every field optional):
 *
 *   {
 *     "nodeCap":    { "rho": 5, "delta": 5e-5 },                 // default cap of every node
 *     "nodeCaps":   { "cert-fr": { "rho": 10 } },                // per-node caps
 *     "allocation": { "rho": 1, "delta": 1e-5 },                 // default allocation per member per node
 *     "allocations": [                                           // overrides; the most specific wins
 *       { "member": "eu-enisa", "rho": 2 },                      //   a member on every node
 *       { "member": "eu-enisa", "node": "cert-fr", "rho": 3 }    //   a member on one node
 *     ],
 *     "federationCap": { "rho": 5, "delta": 5e-5 },              // K > 1: the federation-wide cap
 *     "federationAllocation": { "rho": 1, "delta": 1e-5 },       // K > 1: default per member, federation-wide
 *     "federationAllocations": { "eu-enisa": { "rho": 2 } }      // K > 1: per member
 *   }
 */
import { readFileSync } from 'node:fs';
import { AccordError } from '../../schema/errors.js';
import { capUnits, MAX_DELTA, MAX_RHO, type Units } from './units.js';

export interface PrivacyAmount {
  rho: number;
  delta: number;
}

export interface AllocationOverride {
  member: string;
  /** Absent: the member's allocation on every node. */
  node?: string;
  rho: number;
  delta?: number;
}

export interface BudgetConfig {
  nodeCap: PrivacyAmount;
  nodeCaps: Record<string, PrivacyAmount>;
  allocation: PrivacyAmount;
  allocations: AllocationOverride[];
  federationCap: PrivacyAmount;
  federationAllocation: PrivacyAmount;
  federationAllocations: Record<string, PrivacyAmount>;
}

/** A partial budget configuration; amounts may omit δ. */
export interface BudgetConfigInput {
  nodeCap?: Partial<PrivacyAmount>;
  nodeCaps?: Record<string, Partial<PrivacyAmount>>;
  allocation?: Partial<PrivacyAmount>;
  allocations?: AllocationOverride[];
  federationCap?: Partial<PrivacyAmount>;
  federationAllocation?: Partial<PrivacyAmount>;
  federationAllocations?: Record<string, Partial<PrivacyAmount>>;
}

/**
 * Defaults over the 365-day horizon (docs/privacy.md, "Defaults"): a node's data leaks at most ρ = 5
 * (ε ≈ 20.6 at δ = 10⁻⁶) a year to the federation, the federation as a whole (K > 1) the same per
 * organisation; a member gets ρ = 1 a year per node and federation-wide — 20 fresh questions at the
 * default ρ = 0.05. δ caps cover as many partition-selection questions (δ/2 = 5·10⁻⁷ each) as ρ does.
 */
export const DEFAULT_BUDGETS: Readonly<BudgetConfig> = Object.freeze({
  nodeCap: { rho: 5, delta: 5e-5 },
  nodeCaps: {},
  allocation: { rho: 1, delta: 1e-5 },
  allocations: [],
  federationCap: { rho: 5, delta: 5e-5 },
  federationAllocation: { rho: 1, delta: 1e-5 },
  federationAllocations: {},
});

function invalid(message: string): never {
  throw new AccordError('CONFIG_INVALID', message);
}

function amount(where: string, raw: unknown, fallback: PrivacyAmount): PrivacyAmount {
  if (raw === undefined) return { ...fallback };
  if (typeof raw !== 'object' || raw === null) invalid(`${where} must be an object { rho, delta }.`);
  const r = raw as Record<string, unknown>;
  const rho = r.rho ?? fallback.rho;
  const delta = r.delta ?? fallback.delta;
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0 || rho > MAX_RHO) invalid(`${where}.rho must be a number in [0, ${MAX_RHO}].`);
  if (typeof delta !== 'number' || !Number.isFinite(delta) || delta < 0 || delta > MAX_DELTA) invalid(`${where}.delta must be a number in [0, ${MAX_DELTA}].`);
  return { rho, delta };
}

/**
 * Validates a budget configuration and fills defaults. Throws AccordError('CONFIG_INVALID') naming
 * the offending entry.
 */
export function resolveBudgets(input: BudgetConfigInput | undefined): BudgetConfig {
  const i = input ?? {};
  if (typeof i !== 'object' || i === null || Array.isArray(i)) invalid('The budgets configuration must be a JSON object.');
  const nodeCap = amount('nodeCap', i.nodeCap, DEFAULT_BUDGETS.nodeCap);
  const allocation = amount('allocation', i.allocation, DEFAULT_BUDGETS.allocation);
  const nodeCaps = amounts('nodeCaps', i.nodeCaps, nodeCap);
  const federationCap = amount('federationCap', i.federationCap, DEFAULT_BUDGETS.federationCap);
  const federationAllocation = amount('federationAllocation', i.federationAllocation, DEFAULT_BUDGETS.federationAllocation);
  const federationAllocations = amounts('federationAllocations', i.federationAllocations, federationAllocation);
  if (!Array.isArray(i.allocations ?? [])) invalid('allocations must be a list of { member, node?, rho, delta? }.');
  const allocations = (i.allocations ?? []).map((a, k) => {
    if (typeof a !== 'object' || a === null || typeof a.member !== 'string' || a.member === '') invalid(`allocations[${k}] needs a member id.`);
    if (a.node !== undefined && (typeof a.node !== 'string' || a.node === '')) invalid(`allocations[${k}].node must be a node id.`);
    const amt = amount(`allocations[${k}]`, a, allocation);
    return { member: a.member, ...(a.node ? { node: a.node } : {}), rho: amt.rho, delta: amt.delta };
  });
  return { nodeCap, nodeCaps, allocation, allocations, federationCap, federationAllocation, federationAllocations };
}

/** A map of id → amount, each filled from `fallback`. Throws AccordError('CONFIG_INVALID'). */
function amounts(where: string, raw: Record<string, Partial<PrivacyAmount>> | undefined, fallback: PrivacyAmount): Record<string, PrivacyAmount> {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) invalid(`${where} must be an object of id → { rho, delta }.`);
  const out: Record<string, PrivacyAmount> = {};
  for (const [id, a] of Object.entries(raw ?? {})) out[id] = amount(`${where}.${id}`, a, fallback);
  return out;
}

/** Reads and validates a budgets file. Throws AccordError('CONFIG_INVALID'). */
export function loadBudgetsFile(path: string): BudgetConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    invalid(`Cannot read the budgets file "${path}".`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    invalid(`The budgets file "${path}" is not valid JSON.`);
  }
  return resolveBudgets(parsed as BudgetConfigInput);
}

/** Caps and allocations in ledger units, looked up per node and per (member, node). */
export class Budgets {
  private readonly nodeCapUnits: Units;
  private readonly nodeCapsUnits = new Map<string, Units>();
  private readonly allocationUnits: Units;
  private readonly memberAll = new Map<string, Units>();
  private readonly memberNode = new Map<string, Units>();
  private readonly federationCapUnits: Units;
  private readonly federationAllocationUnits: Units;
  private readonly memberFederation = new Map<string, Units>();

  constructor(readonly config: BudgetConfig) {
    this.nodeCapUnits = capUnits(config.nodeCap);
    for (const [n, c] of Object.entries(config.nodeCaps)) this.nodeCapsUnits.set(n, capUnits(c));
    this.allocationUnits = capUnits(config.allocation);
    for (const a of config.allocations) {
      const u = capUnits({ rho: a.rho, delta: a.delta ?? config.allocation.delta });
      if (a.node) this.memberNode.set(`${a.member}\u0001${a.node}`, u);
      else this.memberAll.set(a.member, u);
    }
    this.federationCapUnits = capUnits(config.federationCap);
    this.federationAllocationUnits = capUnits(config.federationAllocation);
    for (const [m, a] of Object.entries(config.federationAllocations)) this.memberFederation.set(m, capUnits(a));
  }

  /** The operator's cap of `node` over the horizon. */
  nodeCap(node: string): Units {
    return this.nodeCapsUnits.get(node) ?? this.nodeCapUnits;
  }

  /** The allocation of `member` on `node` over the horizon (most specific override first). */
  allocation(member: string, node: string): Units {
    return this.memberNode.get(`${member}\u0001${node}`) ?? this.memberAll.get(member) ?? this.allocationUnits;
  }

  /** The federation-wide cap over the horizon (enforced when K > 1). */
  federationCap(): Units {
    return this.federationCapUnits;
  }

  /** The federation-wide allocation of `member` over the horizon (enforced when K > 1). */
  federationAllocation(member: string): Units {
    return this.memberFederation.get(member) ?? this.federationAllocationUnits;
  }
}
