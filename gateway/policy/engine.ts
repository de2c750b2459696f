/**
 * Access policies as data: a Cedar policy set written by platform staff, validated at load against
 * `CEDAR_SCHEMA` (strict mode) and the public-domain lint, then evaluated per (member, node) for every
 * query before any budget is reserved.
 *
 * Rules:
 * - every policy carries `@id("…")`; the id is what a denial names (`POLICY_DENIED`, `rules`);
 * - default deny: a node is asked only when some `permit` matches and no `forbid` does;
 * - a policy set that fails to parse, validate or lint is refused as a whole (CONFIG_INVALID) and
 *   never replaces the set in force;
 * - Cedar is given only what the policy set reads: the context fields and entity attributes its
 *   rules mention (found in the policies' syntax trees at load). Converting values into Cedar's
 *   engine is most of a decision's cost, and the schema's strict validation guarantees no rule
 *   reads anything else. Rules may read attributes of `principal`, `resource` and `context` only;
 *   reading an attribute of an entity literal is refused at load;
 * - nodes the policy set cannot tell apart — not named by any rule, and equal in every attribute
 *   the rules read — share one Cedar evaluation per query (a decision depends on nothing else);
 * - decisions are memoised per (policy set, member, node class, the context fields it reads); the
 *   context holds only public query parameters, so the memo never depends on node data.
 */
import v8 from 'node:v8';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { AccordError } from '../../schema/errors.js';
import { ACTION_TYPE, AGGREGATE_ACTION, CEDAR_SCHEMA, MEMBER_TYPE, NODE_TYPE } from './cedar-schema.js';
import { lintPolicy } from './lint.js';
import type { Member } from '../members.js';

/** What policies know about a node. */
export interface PolicyNode {
  id: string;
  kind: string;
  country?: string;
  region?: string;
}

/** The Cedar context of one query (see CEDAR_SCHEMA). */
export interface PolicyContext {
  question: string;
  measure: string;
  groupBy: string[];
  filters: string[];
  filter: { countries: string[]; regions: string[]; subregions: string[]; sectors: string[] };
  regionsTouched: string[];
  sectorsTouched: string[];
  tlp: string[];
  rhoMicro: number;
  cells: number;
  explicitNodes: boolean;
}

/** The decision for one node. */
export interface NodeDecision {
  node: string;
  allowed: boolean;
  /** Denied: `FORBIDDEN` (a forbid rule matched) or `NO_PERMIT` (no permit rule matched). */
  reason: 'FORBIDDEN' | 'NO_PERMIT' | null;
  /** Ids of the rules that decided: the matching forbids when denied, the matching permits when allowed. */
  rules: string[];
}

/** Top-level attributes the policies read, per variable; `all` when that cannot be narrowed. */
export interface PolicyReads {
  principal: ReadonlySet<string> | 'all';
  resource: ReadonlySet<string> | 'all';
  context: ReadonlySet<string> | 'all';
}

export interface CompiledPolicies {
  /** Preparsed policy-set id inside the Cedar engine (unique per compilation). */
  readonly handle: string;
  /** Policy ids, in file order. */
  readonly ids: readonly string[];
  readonly text: string;
  /** What the policy set reads (the rest is never sent to Cedar). */
  readonly reads: PolicyReads;
  /** Node ids named by some rule (entity literals); every other node is known by its attributes only. */
  readonly namedNodes: ReadonlySet<string>;
}

/** Calls `visit` on every object inside a policy's JSON form (arrays are walked through), outermost first. */
function eachObject(json: unknown, visit: (x: Record<string, unknown>) => void): void {
  if (Array.isArray(json)) {
    for (const i of json) eachObject(i, visit);
    return;
  }
  if (!json || typeof json !== 'object') return;
  const x = json as Record<string, unknown>;
  visit(x);
  for (const v of Object.values(x)) eachObject(v, visit);
}

/** Ids of the `Accord::Node` entity literals anywhere in a policy's JSON form. */
function namedNodesOf(json: unknown, into: Set<string>): void {
  eachObject(json, (x) => {
    if (x.type === NODE_TYPE && typeof x.id === 'string') into.add(x.id);
  });
}

type Var = 'principal' | 'resource' | 'context' | 'action';

/** The variable a `.`-chain starts from (`context.filter.countries` → context), else undefined. */
function rootVar(e: unknown): Var | undefined {
  const x = e as Record<string, unknown> | undefined;
  if (!x || typeof x !== 'object') return undefined;
  if (typeof x.Var === 'string') return x.Var as Var;
  const dot = x['.'] as { left: unknown } | undefined;
  return dot ? rootVar(dot.left) : undefined;
}

/**
 * Records the attributes a policy's conditions read into `reads`; returns problems (attribute
 * access on an entity literal, which the engine could not resolve).
 */
function collectReads(conditions: unknown, reads: { principal: Set<string> | 'all'; resource: Set<string> | 'all'; context: Set<string> | 'all' }): string[] {
  const problems: string[] = [];
  const add = (v: Var, attr: string) => {
    if (v === 'action') return;
    const cur = reads[v];
    if (cur !== 'all') cur.add(attr);
  };
  const everything = () => {
    reads.principal = 'all';
    reads.resource = 'all';
    reads.context = 'all';
  };
  const access = (left: unknown, attr: string) => {
    const l = left as Record<string, unknown>;
    if (l && typeof l.Var === 'string') return add(l.Var as Var, attr);
    if (rootVar(left)) return; // a nested field: its root attribute is recorded by the inner access
    if (l && typeof l === 'object' && 'Value' in l) {
      problems.push('it reads an attribute of an entity literal; read attributes of principal, resource or context only.');
      return;
    }
    everything(); // e.g. (if … then principal else resource).attr
  };
  eachObject(conditions, (x) => {
    const dot = x['.'] as { left: unknown; attr: string } | undefined;
    if (dot && typeof dot === 'object' && 'attr' in dot) access(dot.left, dot.attr);
    const has = x.has as { left: unknown; attr: string | string[] } | undefined;
    if (has && typeof has === 'object' && 'attr' in has) access(has.left, Array.isArray(has.attr) ? has.attr[0]! : has.attr);
  });
  return problems;
}

/**
 * V8 11.3 (Node 20) aborts the process ("Fatal error … unreachable code" in
 * Deoptimizer::DoComputeBuiltinContinuation) when TurboFan has inlined a JS→Wasm call and the
 * calling function is deoptimised lazily on return — reproduced here under sustained load with
 * Cedar decisions (a gateway process died within a minute of mixed traffic; with this flag off it
 * ran without fault). Inlining of JS→Wasm calls is turned off for the process when this module
 * loads, before any Cedar call is optimised; the cost is a slightly slower call into Cedar.
 */
if (process.versions.v8.startsWith('11.')) v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');

const SCHEMA_HANDLE = 'accord-schema';
let schemaReady = false;
let compilations = 0;

function ensureSchema(): void {
  if (schemaReady) return;
  const r = cedar.preparseSchema(SCHEMA_HANDLE, CEDAR_SCHEMA);
  if (r.type !== 'success') throw new AccordError('INTERNAL', `The built-in Cedar schema does not parse: ${r.errors.map((e) => e.message).join('; ')}`);
  schemaReady = true;
}

function invalid(problems: string[]): never {
  throw new AccordError('CONFIG_INVALID', `The access policies were refused: ${problems.join(' ')}`, { problems });
}

/**
 * Parses, validates (Cedar strict mode against CEDAR_SCHEMA) and lints a policy set, then loads it
 * into the Cedar engine. Throws AccordError('CONFIG_INVALID') with `details.problems` listing every
 * problem (parse errors, a missing or repeated `@id`, templates, validation errors, unknown values).
 */
export function compilePolicies(text: string, known: { memberIds: readonly string[]; nodeIds: readonly string[] }): CompiledPolicies {
  ensureSchema();
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success') invalid(parts.errors.map((e) => `Parse error: ${e.message}.`));
  if (parts.policy_templates.length > 0) invalid(['Policy templates are not supported; write static policies.']);
  if (parts.policies.length === 0) invalid(['The policy set is empty: nothing would be allowed.']);
  const problems: string[] = [];
  const byId: Record<string, string> = {};
  const ids: string[] = [];
  const reads: { principal: Set<string> | 'all'; resource: Set<string> | 'all'; context: Set<string> | 'all' } = {
    principal: new Set(),
    resource: new Set(),
    context: new Set(),
  };
  const namedNodes = new Set<string>();
  parts.policies.forEach((p, i) => {
    const json = cedar.policyToJson(p);
    if (json.type !== 'success') {
      problems.push(`Policy ${i + 1}: ${json.errors.map((e) => e.message).join('; ')}.`);
      return;
    }
    const id = json.json.annotations?.id;
    if (typeof id !== 'string' || id.trim() === '') {
      problems.push(`Policy ${i + 1} has no @id("…") annotation; every rule needs one so denials can name it.`);
      return;
    }
    if (byId[id] !== undefined) {
      problems.push(`Two policies share @id("${id}").`);
      return;
    }
    byId[id] = p;
    ids.push(id);
    for (const m of lintPolicy(json.json, known)) problems.push(`Policy "${id}": ${m}`);
    for (const m of collectReads(json.json.conditions, reads)) problems.push(`Policy "${id}": ${m}`);
    namedNodesOf(json.json, namedNodes);
  });
  if (problems.length > 0) invalid(problems);
  const v = cedar.validate({ schema: CEDAR_SCHEMA, policies: { staticPolicies: byId }, validationSettings: { mode: 'strict' } });
  if (v.type !== 'success') invalid(v.errors.map((e) => `Validation failed: ${e.message}.`));
  if (v.validationErrors.length > 0) invalid(v.validationErrors.map((e) => `Policy "${e.policyId}": ${e.error.message}${e.error.help ? ` (${e.error.help})` : ''}.`));
  const handle = `accord-policies-${++compilations}`;
  const loaded = cedar.preparsePolicySet(handle, { staticPolicies: byId });
  if (loaded.type !== 'success') invalid(loaded.errors.map((e) => e.message));
  return { handle, ids, text, reads, namedNodes };
}

type CedarEntity = { uid: { type: string; id: string }; attrs: Record<string, unknown>; parents: [] };

/** `attrs` restricted to what the policies read (absent attributes stay absent). */
function project(attrs: Record<string, unknown>, reads: ReadonlySet<string> | 'all'): Record<string, unknown> {
  if (reads === 'all') return attrs;
  const out: Record<string, unknown> = {};
  for (const k of reads) if (attrs[k] !== undefined) out[k] = attrs[k];
  return out;
}

/** Cedar entity of a member (the attributes the policies read). */
function memberEntity(m: Member, reads: PolicyReads): CedarEntity {
  return { uid: { type: MEMBER_TYPE, id: m.id }, attrs: project({ id: m.id, region: m.region, groups: m.groups, tlpCeiling: m.tlpCeiling }, reads.principal), parents: [] };
}

function nodeEntity(n: PolicyNode, reads: PolicyReads): CedarEntity {
  return { uid: { type: NODE_TYPE, id: n.id }, attrs: project({ id: n.id, kind: n.kind, country: n.country, region: n.region }, reads.resource), parents: [] };
}

const MEMO_LIMIT = 8_192;

/** Evaluates one compiled policy set. Cheap to create; holds the decision memo. */
export class PolicyEngine {
  private readonly memo = new Map<string, Omit<NodeDecision, 'node'>>();
  private readonly classes = new Map<string, string>();
  private readonly members = new Map<string, CedarEntity>();
  private readonly nodes = new Map<string, CedarEntity>();
  /** Cedar calls made (memo misses), for benchmarks. */
  evaluations = 0;

  constructor(readonly policies: CompiledPolicies) {}

  /**
   * The decision for `member` on each of `nodes` under `context`, in node order. Throws
   * AccordError('INTERNAL') when Cedar cannot evaluate the request (a context that does not match
   * the schema is a gateway bug, never a member's fault).
   */
  decide(member: Member, nodes: readonly PolicyNode[], full: PolicyContext): NodeDecision[] {
    const context = project(full as unknown as Record<string, unknown>, this.policies.reads.context);
    const contextKey = JSON.stringify(context);
    const byClass = new Map<string, Omit<NodeDecision, 'node'>>();
    const out: NodeDecision[] = [];
    for (const n of nodes) {
      const cls = this.classOf(n);
      let d = byClass.get(cls);
      if (!d) {
        const key = `${member.id}\u0001${cls}\u0001${contextKey}`;
        d = this.memo.get(key);
        if (!d) {
          d = this.evaluate(member, n, context);
          if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
          this.memo.set(key, d);
        }
        byClass.set(cls, d);
      }
      out.push({ node: n.id, allowed: d.allowed, reason: d.reason, rules: d.rules });
    }
    return out;
  }

  /** Nodes with the same class get the same decision: named nodes are their own class. */
  private classOf(n: PolicyNode): string {
    let c = this.classes.get(n.id);
    if (c === undefined) {
      c = this.policies.namedNodes.has(n.id) ? `id:${n.id}` : `attrs:${JSON.stringify(nodeEntity(n, this.policies.reads).attrs)}`;
      this.classes.set(n.id, c);
    }
    return c;
  }

  private entity<T extends { id: string }>(cache: Map<string, CedarEntity>, v: T, make: (v: T, reads: PolicyReads) => CedarEntity): CedarEntity {
    let e = cache.get(v.id);
    if (!e) cache.set(v.id, (e = make(v, this.policies.reads)));
    return e;
  }

  private evaluate(member: Member, node: PolicyNode, context: Record<string, unknown>): Omit<NodeDecision, 'node'> {
    this.evaluations++;
    const answer = cedar.statefulIsAuthorized({
      principal: { type: MEMBER_TYPE, id: member.id },
      action: { type: ACTION_TYPE, id: AGGREGATE_ACTION },
      resource: { type: NODE_TYPE, id: node.id },
      context: context as cedar.Context,
      preparsedPolicySetId: this.policies.handle,
      validateRequest: false,
      entities: [this.entity(this.members, member, memberEntity), this.entity(this.nodes, node, nodeEntity)] as cedar.EntityJson[],
    });
    if (answer.type !== 'success') {
      throw new AccordError('INTERNAL', `Cedar could not evaluate a request: ${answer.errors.map((e) => e.message).join('; ')}`);
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      // a policy that errors is skipped by Cedar; say so in the log through the caller
      throw new AccordError('INTERNAL', `A policy failed while evaluating: ${diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ')}`);
    }
    const rules = [...diagnostics.reason].sort();
    if (decision === 'allow') return { allowed: true, reason: null, rules };
    return { allowed: false, reason: rules.length > 0 ? 'FORBIDDEN' : 'NO_PERMIT', rules };
  }
}
