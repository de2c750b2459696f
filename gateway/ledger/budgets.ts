/**
 * Budget configuration (DESIGN §3): the node operators' caps (per node per period, on what a
 * node's data may leak to the whole federation) and platform staff's allocations (per member per
 * node per period, within those caps). Periods are calendar months (UTC, `ledgerPeriod`).
 *
 * File form (JSON; every field optional):
 *
 *   {
 *     "nodeCap":    { "rho": 5, "delta": 1e-4 },                 // default cap of every node
 *     "nodeCaps":   { "cert-fr": { "rho": 10 } },                // per-node caps
 *     "allocation": { "rho": 1, "delta": 1e-5 },                 // default allocation per member per node
 *     "allocations": [                                           // overrides; the most specific wins
 *       { "member": "eu-enisa", "rho": 2 },                      //   a member on every node
 *       { "member": "eu-enisa", "node": "cert-fr", "rho": 3 }    //   a member on one node
 *     ]
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
}

/** A partial budget configuration; amounts may omit δ. */
export interface BudgetConfigInput {
  nodeCap?: Partial<PrivacyAmount>;
  nodeCaps?: Record<string, Partial<PrivacyAmount>>;
  allocation?: Partial<PrivacyAmount>;
  allocations?: AllocationOverride[];
}

/** Demo defaults: a node leaks at most ρ = 5 a month to the federation; a member gets ρ = 1 a month per node. */
export const DEFAULT_BUDGETS: Readonly<BudgetConfig> = Object.freeze({
  nodeCap: { rho: 5, delta: 1e-4 },
  nodeCaps: {},
  allocation: { rho: 1, delta: 1e-5 },
  allocations: [],
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
  const nodeCaps: Record<string, PrivacyAmount> = {};
  for (const [node, cap] of Object.entries(i.nodeCaps ?? {})) nodeCaps[node] = amount(`nodeCaps.${node}`, cap, nodeCap);
  if (!Array.isArray(i.allocations ?? [])) invalid('allocations must be a list of { member, node?, rho, delta? }.');
  const allocations = (i.allocations ?? []).map((a, k) => {
    if (typeof a !== 'object' || a === null || typeof a.member !== 'string' || a.member === '') invalid(`allocations[${k}] needs a member id.`);
    if (a.node !== undefined && (typeof a.node !== 'string' || a.node === '')) invalid(`allocations[${k}].node must be a node id.`);
    const amt = amount(`allocations[${k}]`, a, allocation);
    return { member: a.member, ...(a.node ? { node: a.node } : {}), rho: amt.rho, delta: amt.delta };
  });
  return { nodeCap, nodeCaps, allocation, allocations };
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

  constructor(readonly config: BudgetConfig) {
    this.nodeCapUnits = capUnits(config.nodeCap);
    for (const [n, c] of Object.entries(config.nodeCaps)) this.nodeCapsUnits.set(n, capUnits(c));
    this.allocationUnits = capUnits(config.allocation);
    for (const a of config.allocations) {
      const u = capUnits({ rho: a.rho, delta: a.delta ?? config.allocation.delta });
      if (a.node) this.memberNode.set(`${a.member}\u0001${a.node}`, u);
      else this.memberAll.set(a.member, u);
    }
  }

  /** The operator's cap of `node` per period. */
  nodeCap(node: string): Units {
    return this.nodeCapsUnits.get(node) ?? this.nodeCapUnits;
  }

  /** The allocation of `member` on `node` per period (most specific override first). */
  allocation(member: string, node: string): Units {
    return this.memberNode.get(`${member}\u0001${node}`) ?? this.memberAll.get(member) ?? this.allocationUnits;
  }
}
