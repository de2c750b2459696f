/**
 * The access configuration in force: members, the compiled policy set and the budgets. Loaded at
 * start; reloaded on SIGHUP or the staff-only `reloadPolicies` mutation. A reload reads and checks
 * everything first and swaps it in only when all of it is valid; otherwise the configuration in
 * force stays and the problems are reported.
 */
import { readFileSync } from 'node:fs';
import { AccordError, isAccordError } from '../../schema/errors.js';
import { Budgets, loadBudgetsFile, resolveBudgets, type BudgetConfigInput } from '../ledger/budgets.js';
import { compilePolicies, PolicyEngine, type PolicyNode } from './engine.js';
import { loadMembersFile, validateMembers, type Member } from '../members.js';

/** Where the access configuration comes from: inline values, or files (reloadable). */
export interface AccessSources {
  /** Members, or the path of a members file. */
  members: readonly Member[] | string;
  /** Cedar policy text (`{ text }`) or the path of a `.cedar` file. */
  policies: { text: string } | string;
  /** Budgets, or the path of a budgets file (default: built-in defaults). */
  budgets?: BudgetConfigInput | string;
}

export interface ReloadResult {
  ok: boolean;
  /** Increases with every successful load. */
  version: number;
  /** Policy ids in force after the reload. */
  policies: string[];
  members: number;
  /** Why the reload was refused (empty when ok). */
  errors: string[];
}

interface Snapshot {
  members: Map<string, Member>;
  engine: PolicyEngine;
  budgets: Budgets;
}

function readPolicies(src: AccessSources['policies']): string {
  if (typeof src !== 'string') return src.text;
  try {
    return readFileSync(src, 'utf8');
  } catch {
    throw new AccordError('CONFIG_INVALID', `Cannot read the policies file "${src}"; pass --policies <file> (npm start writes a demo one under ./data).`);
  }
}

function build(sources: AccessSources, nodes: readonly PolicyNode[]): Snapshot {
  const members = typeof sources.members === 'string' ? loadMembersFile(sources.members) : validateMembers(sources.members);
  const budgets = new Budgets(typeof sources.budgets === 'string' ? loadBudgetsFile(sources.budgets) : resolveBudgets(sources.budgets));
  const compiled = compilePolicies(readPolicies(sources.policies), { memberIds: members.map((m) => m.id), nodeIds: nodes.map((n) => n.id) });
  return { members: new Map(members.map((m) => [m.id, m])), engine: new PolicyEngine(compiled), budgets };
}

export class AccessControl {
  private current: Snapshot;
  private versionNo = 1;

  /**
   * Loads members, policies and budgets. Throws AccordError('CONFIG_INVALID') when any of them is
   * missing or invalid (the message lists every policy problem).
   */
  constructor(
    private readonly sources: AccessSources,
    private readonly nodes: readonly PolicyNode[],
  ) {
    this.current = build(sources, nodes);
  }

  get version(): number {
    return this.versionNo;
  }

  /** The member with this id, or undefined. */
  member(id: string): Member | undefined {
    return this.current.members.get(id);
  }

  get members(): Member[] {
    return [...this.current.members.values()];
  }

  get engine(): PolicyEngine {
    return this.current.engine;
  }

  get budgets(): Budgets {
    return this.current.budgets;
  }

  /** What policies know about each registered node. */
  get policyNodes(): readonly PolicyNode[] {
    return this.nodes;
  }

  /** Re-reads every source; swaps the configuration in only when all of it is valid. Never throws. */
  reload(): ReloadResult {
    try {
      this.current = build(this.sources, this.nodes);
      this.versionNo++;
      return { ok: true, version: this.versionNo, policies: [...this.current.engine.policies.ids], members: this.current.members.size, errors: [] };
    } catch (e) {
      const errors = isAccordError(e) ? ((e.details.problems as string[] | undefined) ?? [e.message]) : ['The configuration could not be read; see the gateway log.'];
      return { ok: false, version: this.versionNo, policies: [...this.current.engine.policies.ids], members: this.current.members.size, errors };
    }
  }
}
