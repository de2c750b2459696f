/**
 * The policy engine against Cedar itself: the engine sends Cedar only what the policy set reads,
 * shares evaluations between nodes the policies cannot tell apart and memoises decisions. Here
 * every decision it makes is compared with a direct, full Cedar evaluation (whole context, all
 * attributes, one call per node, validated against the schema) over many members, nodes and
 * questions: the shortcuts must never change a decision or its reasons.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { CEDAR_SCHEMA } from '../../gateway/policy/cedar-schema.js';
import { policyContext } from '../../gateway/admission/policy-context.js';
import { DEMO_MEMBERS, DEMO_POLICIES } from '../../gateway/policy/defaults.js';
import { compilePolicies, PolicyEngine, type PolicyContext, type PolicyNode } from '../../gateway/policy/engine.js';
import { tlpLevelsUpTo, type Member } from '../../gateway/members.js';
import { SECTOR_IDS } from '../../schema/reference/index.js';

const NODES: PolicyNode[] = [
  { id: 'cert-de', kind: 'national-cert', country: 'DE', region: 'Europe' },
  { id: 'cert-fr', kind: 'national-cert', country: 'FR', region: 'Europe' },
  { id: 'isac-energy', kind: 'sector-isac', region: 'Europe' },
  { id: 'cert-jp', kind: 'national-cert', country: 'JP', region: 'Asia' },
  { id: 'isac-water', kind: 'sector-isac' },
];
const MEMBERS: Member[] = [...DEMO_MEMBERS, { id: 'us-partner', name: 'US partner', region: 'Americas', groups: ['nato', 'sector-isac'], tlpCeiling: 'CLEAR', roles: [] }];

/** The demo rules plus rules that read node attributes, TLP, filters and `has`. */
const POLICIES = `${DEMO_POLICIES}
@id("asia-nodes-asia-members")
forbid (principal, action, resource) when { resource has region && resource.region == "Asia" && principal.region != "Asia" };
@id("isac-no-country-breakdown")
forbid (principal, action, resource) when { resource.kind == "sector-isac" && context.groupBy.contains("COUNTRY") && !principal.groups.contains("eu") };
@id("amber-national-eu-only")
forbid (principal, action, resource) when { context.tlp.contains("AMBER") && resource has country && !principal.groups.contains("eu") };
@id("no-jp-country-filter")
forbid (principal, action, resource) when { context.filter.countries.contains("JP") && context.filters.contains("countries") && principal.id == "eu-enisa" };
`;

const deps = { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT' as const, maxCells: 50_000 };

/** Deterministic pseudo-random questions. */
function* questions(n: number): Generator<{ groupBy: string[]; filter: Record<string, unknown>; measure: string }> {
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const dims = ['COUNTRY', 'REGION', 'SECTOR', 'SUBREGION'];
  const countries = ['DE', 'FR', 'JP', 'US', 'BR', 'IT'];
  for (let i = 0; i < n; i++) {
    const groupBy = dims.filter(() => rnd() < 0.4);
    const filter: Record<string, unknown> = {};
    if (rnd() < 0.6) filter.countries = countries.filter(() => rnd() < 0.4).concat('DE');
    if (rnd() < 0.5) filter.sectors = SECTOR_IDS.filter(() => rnd() < 0.2).concat('energy');
    yield { groupBy, filter, measure: rnd() < 0.2 ? 'ORGANISATIONS' : 'INCIDENTS' };
  }
}

function reference(member: Member, node: PolicyNode, context: PolicyContext) {
  const answer = cedar.isAuthorized({
    principal: { type: 'Accord::Member', id: member.id },
    action: { type: 'Accord::Action', id: 'aggregate' },
    resource: { type: 'Accord::Node', id: node.id },
    context: context as unknown as cedar.Context,
    schema: CEDAR_SCHEMA,
    validateRequest: true,
    policies: { staticPolicies: byId },
    entities: [
      { uid: { type: 'Accord::Member', id: member.id }, attrs: { id: member.id, region: member.region, groups: member.groups, tlpCeiling: member.tlpCeiling }, parents: [] },
      { uid: { type: 'Accord::Node', id: node.id }, attrs: { id: node.id, kind: node.kind, ...(node.country ? { country: node.country } : {}), ...(node.region ? { region: node.region } : {}) }, parents: [] },
    ],
  });
  if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
  expect(answer.response.diagnostics.errors).toEqual([]);
  return { allowed: answer.response.decision === 'allow', rules: [...answer.response.diagnostics.reason].sort() };
}

const known = { memberIds: MEMBERS.map((m) => m.id), nodeIds: NODES.map((n) => n.id) };
const compiled = compilePolicies(POLICIES, known);
const byId = Object.fromEntries(
  (cedar.policySetTextToParts(POLICIES) as { policies: string[] }).policies.map((p) => [(cedar.policyToJson(p) as { json: { annotations: { id: string } } }).json.annotations.id, p]),
);

describe('policy engine', () => {
  test('knows what the policies read and which nodes they name', () => {
    expect([...(compiled.reads.context as Set<string>)].sort()).toEqual(['filter', 'filters', 'groupBy', 'measure', 'regionsTouched', 'rhoMicro', 'sectorsTouched', 'tlp']);
    expect([...(compiled.reads.resource as Set<string>)].sort()).toEqual(['country', 'kind', 'region']);
    expect([...(compiled.reads.principal as Set<string>)].sort()).toEqual(['groups', 'id', 'region']);
    expect([...compiled.namedNodes]).toEqual(['cert-de']);
  });

  test('every decision equals a direct full Cedar evaluation (and the full context validates against the schema)', () => {
    const engine = new PolicyEngine(compiled);
    let checked = 0;
    let denied = 0;
    for (const q of questions(150)) {
      const plan = planAggregate(q as never, deps);
      for (const member of MEMBERS) {
        const ctx = policyContext(plan, tlpLevelsUpTo(member.tlpCeiling), false);
        const decisions = engine.decide(member, NODES, ctx);
        decisions.forEach((d, i) => {
          const ref = reference(member, NODES[i]!, ctx);
          expect({ node: d.node, allowed: d.allowed, rules: d.allowed ? [] : d.rules }).toEqual({ node: NODES[i]!.id, allowed: ref.allowed, rules: ref.allowed ? [] : ref.rules });
          expect(d.reason).toBe(ref.allowed ? null : ref.rules.length > 0 ? 'FORBIDDEN' : 'NO_PERMIT');
          checked++;
          if (!d.allowed) denied++;
        });
        // asked again: the memo gives the same answer without Cedar
        const before = engine.evaluations;
        expect(engine.decide(member, NODES, ctx)).toEqual(decisions);
        expect(engine.evaluations).toBe(before);
      }
    }
    expect(checked).toBe(150 * MEMBERS.length * NODES.length);
    // both outcomes occur often enough for the comparison to mean something
    expect(denied).toBeGreaterThan(checked / 10);
    expect(checked - denied).toBeGreaterThan(checked / 10);
  });

  test('indistinguishable nodes share one evaluation', () => {
    const engine = new PolicyEngine(compilePolicies(DEMO_POLICIES, known));
    const plan = planAggregate({ groupBy: ['COUNTRY'], filter: { countries: ['DE'] } }, deps);
    engine.decide(DEMO_MEMBERS[0]!, NODES, policyContext(plan, ['CLEAR', 'GREEN', 'AMBER'], false));
    // the demo rules read no node attribute and name cert-de only: two classes for five nodes
    expect(engine.evaluations).toBe(2);
  });
});
