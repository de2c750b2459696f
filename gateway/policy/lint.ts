/**
 * Load-time checks Cedar's validator cannot make: string values compared with attributes whose
 * values come from a public domain must belong to it. `context.groupBy.contains("SECTR")` is a type-
 * correct Cedar expression that would never match — a silent allow for a `forbid` rule — so it is
 * refused here instead. Entity literals must name registered members and nodes.
 *
 * Checked forms (either operand order): `A == v`, `A != v`, `A == [v, …]`, `A.contains(v)`,
 * `[v, …].contains(A)`, `A.containsAll([v, …])`, `A.containsAny([v, …])`, for A an attribute path
 * listed in the domains, and every `Accord::Member::"…"` / `Accord::Node::"…"` literal.
 */
import { DIMENSIONS, MEASURES } from '../../schema/contract/index.js';
import { COUNTRIES, REGIONS, SECTOR_IDS, SUBREGIONS } from '../../schema/reference/index.js';
import { MEMBER_TYPE, NODE_TYPE } from './cedar-schema.js';
import { TLP_CEILINGS } from '../members.js';

export interface Domain {
  /** What the values are, for messages. */
  name: string;
  values: ReadonlySet<string>;
}

export interface LintInput {
  memberIds: readonly string[];
  nodeIds: readonly string[];
}

const FILTER_NAMES = ['countries', 'regions', 'subregions', 'sectors', 'from', 'to'];

function domains(input: LintInput): Map<string, Domain> {
  const d = (name: string, values: Iterable<string>): Domain => ({ name, values: new Set(values) });
  const countries = d('an ISO 3166-1 alpha-2 country code', COUNTRIES.map((c) => c.alpha2));
  const regions = d('a UN M49 region', Object.keys(REGIONS));
  const sectors = d('a sector id', SECTOR_IDS);
  const tlp = d('a TLP level (CLEAR, GREEN, AMBER)', TLP_CEILINGS);
  return new Map<string, Domain>([
    ['context.measure', d('a measure', MEASURES)],
    ['context.groupBy', d('a dimension', DIMENSIONS)],
    ['context.filters', d('a filter name', FILTER_NAMES)],
    ['context.filter.countries', countries],
    ['context.filter.regions', regions],
    ['context.filter.subregions', d('a UN M49 sub-region', SUBREGIONS)],
    ['context.filter.sectors', sectors],
    ['context.regionsTouched', regions],
    ['context.sectorsTouched', sectors],
    ['context.tlp', tlp],
    ['principal.region', regions],
    ['principal.tlpCeiling', tlp],
    ['principal.id', d('a registered member id', input.memberIds)],
    ['resource.id', d('a registered node id', input.nodeIds)],
    ['resource.country', countries],
    ['resource.region', regions],
  ]);
}

type Expr = Record<string, unknown>;

/** `context.filter.countries` for a `.`-chain rooted at a variable, else undefined. */
function pathOf(e: unknown): string | undefined {
  const x = e as Expr | undefined;
  if (!x || typeof x !== 'object') return undefined;
  if (typeof x.Var === 'string') return x.Var;
  const dot = x['.'] as { left: unknown; attr: string } | undefined;
  if (dot) {
    const left = pathOf(dot.left);
    return left === undefined ? undefined : `${left}.${dot.attr}`;
  }
  return undefined;
}

/** String literals of a literal string or a set literal of strings; undefined otherwise. */
function literals(e: unknown): string[] | undefined {
  const x = e as Expr | undefined;
  if (!x || typeof x !== 'object') return undefined;
  if ('Value' in x) {
    const v = x.Value;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((i) => typeof i === 'string')) return v as string[];
    return undefined;
  }
  if (Array.isArray(x.Set)) {
    const out: string[] = [];
    for (const item of x.Set as unknown[]) {
      const l = literals(item);
      if (!l || l.length !== 1) return undefined;
      out.push(l[0]!);
    }
    return out;
  }
  return undefined;
}

const COMPARED = ['==', '!=', 'contains', 'containsAll', 'containsAny'];

/**
 * Problems in one policy (its JSON form from Cedar's `policyToJson`), as messages naming the
 * offending value. Empty when the policy is clean.
 */
export function lintPolicy(json: unknown, input: LintInput): string[] {
  const known = domains(input);
  const members = new Set(input.memberIds);
  const nodes = new Set(input.nodeIds);
  const problems: string[] = [];
  const check = (path: string | undefined, values: string[] | undefined) => {
    if (!path || !values) return;
    const dom = known.get(path);
    if (!dom) return;
    for (const v of values) {
      if (!dom.values.has(v)) problems.push(`"${v}" is not ${dom.name} (compared with ${path}).`);
    }
  };
  const entity = (ref: unknown) => {
    const r = ref as { type?: unknown; id?: unknown } | undefined;
    if (!r || typeof r.type !== 'string' || typeof r.id !== 'string') return;
    if (r.type === MEMBER_TYPE && !members.has(r.id)) problems.push(`${MEMBER_TYPE}::"${r.id}" is not a registered member.`);
    if (r.type === NODE_TYPE && !nodes.has(r.id)) problems.push(`${NODE_TYPE}::"${r.id}" is not a registered node.`);
  };
  const walk = (e: unknown): void => {
    if (Array.isArray(e)) {
      for (const i of e) walk(i);
      return;
    }
    if (!e || typeof e !== 'object') return;
    const x = e as Expr;
    if (x.__entity) entity(x.__entity);
    for (const op of COMPARED) {
      const bin = x[op] as { left: unknown; right: unknown } | undefined;
      if (bin && typeof bin === 'object' && 'left' in bin && 'right' in bin) {
        check(pathOf(bin.left), literals(bin.right));
        check(pathOf(bin.right), literals(bin.left));
      }
    }
    for (const v of Object.values(x)) walk(v);
  };
  const p = json as { principal?: { entity?: unknown; entities?: unknown[] }; resource?: { entity?: unknown; entities?: unknown[] }; conditions?: unknown };
  for (const scope of [p.principal, p.resource]) {
    if (scope?.entity) entity(scope.entity);
    for (const en of scope?.entities ?? []) entity(en);
  }
  walk(p.conditions);
  return problems;
}
