import { describe, expect, it } from 'vitest';
import { generateFederation, federationNodes } from '../../scripts/synth/index.js';
import { generateNodeAlone, makeVariant } from '../../scripts/bench/harness.js';
import { QUESTIONS, questionsBenchOptionsFromEnv } from '../../scripts/bench/questions.js';
import { validateContributionRequest } from '../../nodes/contribution/validate.js';

const ctx = { indicator: { type: 'ipv4-addr', value: '203.0.113.7' }, indicatorKey: 'bench-test-indicator-key-0123456789', today: '2026-03-15' };

describe('analyst questions benchmark', () => {
  it('generates one node alone exactly as in the whole federation, planted campaigns included', () => {
    const specs = federationNodes(4);
    const whole = generateFederation({ seed: 'bench-test', nodes: specs, incidentsPerNode: 1_500 });
    for (const s of specs) {
      const alone = generateNodeAlone(specs, s.id, 'bench-test', 1_500);
      expect(alone.dataset).toEqual(whole.datasets[s.id]);
      expect(alone.planted).toEqual(whole.planted);
    }
  });

  it('asks every question as a new aggregate each round, with the same request shape the nodes accept', () => {
    expect(QUESTIONS.map((q) => q.field).sort()).toEqual(['crossBorderPattern', 'exploitVintages', 'indicatorPrevalence', 'sectorImpact', 'topK', 'topK', 'trend'].sort());
    for (const q of QUESTIONS) {
      const variants = [0, 1, 2].map((i) => {
        const r = q.round(i, ctx);
        return makeVariant(r.args, { ...q.gql, field: q.field, variables: r.variables });
      });
      // distinct fingerprints: the gateway's answer cache cannot serve a measured round
      expect(new Set(variants.map((v) => v.queryId)).size).toBe(3);
      for (const v of variants) {
        expect(() => validateContributionRequest(v.request)).not.toThrow();
        expect(v.request.groupBy).toEqual(variants[0]!.request.groupBy);
        expect(v.request.measure).toEqual(variants[0]!.request.measure);
        expect(v.request.bounds).toEqual(variants[0]!.request.bounds);
        expect(JSON.parse(v.gwBody).query).toContain(`${q.field}(`);
      }
    }
  });

  it('reaches back to the first day of data in indicatorPrevalence and filters on the keyed hash only', () => {
    const q = QUESTIONS.find((x) => x.field === 'indicatorPrevalence')!;
    const r0 = q.round(0, ctx);
    const v = makeVariant(r0.args, { ...q.gql, field: q.field, variables: r0.variables });
    expect(v.request.filter.from).toBe('2024-01-01');
    expect(v.request.filter.to).toBe('2026-03-16');
    expect(v.request.filter.indicators).toHaveLength(1);
    expect(v.request.filter.indicators![0]).toMatch(/^[0-9a-f]{64}$/);
    expect(v.nodeBody).not.toContain(ctx.indicator.value);
    expect(q.round(1, ctx).args.filter?.from).toBe('2023-12-31');
  });

  it('reads its options from the environment', () => {
    const d = questionsBenchOptionsFromEnv({});
    expect([d.nodes, d.incidentsPerNode, d.queries, d.questions.length, d.out]).toEqual([5, 1_000_000, 20, QUESTIONS.length, null]);
    const o = questionsBenchOptionsFromEnv({ BENCH_NODES: '3', BENCH_QUESTION_NODES: '4', BENCH_QUESTIONS: 'trend,topK TOOL', BENCH_INCIDENTS: '2000' });
    expect([o.nodes, o.incidentsPerNode, o.questions]).toEqual([4, 2_000, ['trend', 'topK TOOL']]);
    expect(questionsBenchOptionsFromEnv({ BENCH_QUESTIONS: 'none' }).questions).toEqual([]);
    expect(() => questionsBenchOptionsFromEnv({ BENCH_QUESTIONS: 'nope' })).toThrow(RangeError);
    expect(() => questionsBenchOptionsFromEnv({ BENCH_NODES: '3,10' })).toThrow(RangeError);
  });
});
