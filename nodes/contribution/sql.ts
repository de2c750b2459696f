/**
 * The one SQL statement that answers a contribution request with per-organisation bounding
 * (DESIGN §3). Built only from allow-listed fragments ({@link ./dimensions.ts}); every value a
 * requester sent is a bound parameter.
 *
 * Shape (k = the group-by keys, org = the privacy unit):
 *   base   — one row per (incident, distinct key tuple) passing the filters and the TLP gate
 *   picked — sums only: a random ≤ L∞ rows per (org, k) via ROW_NUMBER() OVER (PARTITION BY org, k ORDER BY random())
 *   cells  — per (org, k): row count n (and, for sums, clamped grid-unit sum s and disrupted rows dd)
 *   ranked — ROW_NUMBER() OVER (PARTITION BY org ORDER BY random()) = pr: a random order of the org's groups
 *   result — per k over cells with pr ≤ L0: Σ min(n, L∞) (counts) or Σ n, Σ s, Σ dd (sums), and the
 *            number of distinct orgs kept (every kept org has exactly one cell with pr = 1)
 */
import type { TlpLevel } from '../../schema/contract/dataset.js';
import type { Dialect } from '../db/orm.js';
import type { SqlParam } from '../db/sql.js';
import { FILTER_OF_DIMENSION, INCIDENT_DIMENSIONS, LINK_DIMENSIONS, isLinkDimension, type LinkSpec } from './dimensions.js';
import { gridUnits } from './grid.js';
import { NEVER_CONTRIBUTING_TLP } from './tlp-gate.js';
import { isSumMeasure, type ValidatedFilter, type ValidatedRequest } from './validate.js';

export interface ContributionStatement {
  sql: string;
  params: SqlParam[];
  /** Number of key columns `k0…` in the result. */
  dims: number;
}

/**
 * `groups`: one row per group (`k0…`, `cnt`, `sm`, `ds`, `units`).
 * `cells`: one row per kept (organisation, group) cell (`org` = organisation ref, `k0…`, `cnt`, `sm`, `ds`) —
 * for tests and audits of the bounding; never served.
 */
export type StatementOutput = 'groups' | 'cells';

class Fragment {
  readonly parts: string[] = [];
  readonly params: SqlParam[] = [];
  add(sql: string, ...params: SqlParam[]): this {
    this.parts.push(sql);
    this.params.push(...params);
    return this;
  }
  /** `in (?, ?, …)` over `values`, or a false condition for an empty list. */
  inList(expr: string, values: readonly string[]): this {
    if (values.length === 0) return this.add('1 = 0');
    return this.add(`${expr} in (${values.map(() => '?').join(', ')})`, ...values);
  }
}

function linkCondition(spec: LinkSpec, alias: string): string {
  return spec.condition.replaceAll('$', alias);
}

/**
 * Builds the statement for a validated request. `contributingTlp` are the TLP levels the node's TLP
 * gate lets contribute (NEVER_CONTRIBUTING_TLP is removed whatever they say).
 */
export function buildContributionStatement(
  req: ValidatedRequest,
  dialect: Dialect,
  contributingTlp: readonly TlpLevel[],
  output: StatementOutput = 'groups',
): ContributionStatement {
  const f: ValidatedFilter = req.filter;
  const dims = req.groupBy;
  const keyAliases = dims.map((_, i) => `"k${i}"`);
  const linkDims = dims.filter(isLinkDimension);

  // --- select list of base ---
  const select = new Fragment();
  const keyExprs: string[] = [];
  for (const d of dims) {
    if (isLinkDimension(d)) {
      const spec = LINK_DIMENSIONS[d];
      keyExprs.push(spec.key(spec.alias, dialect));
    } else {
      keyExprs.push(`i."${INCIDENT_DIMENSIONS[d].column}"`);
    }
  }
  select.add(`select ${linkDims.length > 0 ? 'distinct i."id" as "iid", ' : ''}i."organisation_id" as "org"`);
  keyExprs.forEach((e, i) => select.add(`, ${e} as ${keyAliases[i]}`));
  if (isSumMeasure(req.measure)) {
    const clamp = req.bounds.clamp!;
    select.add(
      `, case i."severity" ${[1, 2, 3, 4, 5].map((s) => `when ${s} then cast(? as bigint)`).join(' ')} end as "v"`,
      ...[1, 2, 3, 4, 5].map((s) => gridUnits(s, clamp)),
    );
    select.add(', case when i."disruption" then 1 else 0 end as "dis"');
  }

  // --- joins for link dimensions in the group-by ---
  const joins = new Fragment();
  for (const d of linkDims) {
    const spec = LINK_DIMENSIONS[d];
    const l = `${spec.alias}_l`;
    joins.add(` join "${spec.link}" ${l} on ${l}."incident_id" = i."id"`);
    joins.add(` join "${spec.target}" ${spec.alias} on ${spec.alias}."id" = ${l}."${spec.linkColumn}" and ${linkCondition(spec, spec.alias)}`);
    const values = f[spec.filter.list];
    if (values !== undefined) joins.add(' and ').inList(`${spec.alias}."${spec.filter.column}"`, values);
  }

  // --- where ---
  const conds: Fragment[] = [];
  const allowedTlp = contributingTlp.filter((t) => !NEVER_CONTRIBUTING_TLP.includes(t) && (f.tlp === undefined || f.tlp.includes(t)));
  conds.push(new Fragment().inList('i."tlp"', allowedTlp));
  if (f.from !== undefined) conds.push(new Fragment().add('i."date" >= ?', f.from));
  if (f.to !== undefined) conds.push(new Fragment().add('i."date" < ?', f.to));
  for (const d of ['COUNTRY', 'REGION', 'SUBREGION', 'SECTOR'] as const) {
    const values = f[FILTER_OF_DIMENSION[d]];
    if (values !== undefined) conds.push(new Fragment().inList(`i."${INCIDENT_DIMENSIONS[d].column}"`, values));
  }
  for (const d of dims) {
    if (!isLinkDimension(d) && INCIDENT_DIMENSIONS[d].nullable) conds.push(new Fragment().add(`i."${INCIDENT_DIMENSIONS[d].column}" is not null`));
  }
  for (const d of ['EXPLOIT', 'TOOL', 'ACTOR'] as const) {
    const spec = LINK_DIMENSIONS[d];
    const values = f[spec.filter.list];
    if (values === undefined || dims.includes(d)) continue; // grouped link filters are applied on the join
    const cond = new Fragment().add(
      `exists (select 1 from "${spec.link}" fl join "${spec.target}" ft on ft."id" = fl."${spec.linkColumn}" where fl."incident_id" = i."id" and ${linkCondition(spec, 'ft')} and `,
    );
    cond.inList(`ft."${spec.filter.column}"`, values).add(')');
    conds.push(cond);
  }
  if (f.indicators !== undefined) {
    // driven from the hash index: the few incidents carrying the indicator, not a probe per incident
    conds.push(new Fragment().add('i."id" in (select fi."incident_id" from "indicator" fi where ').inList('fi."hash"', f.indicators).add(')'));
  }
  const where = new Fragment().add(' where ');
  conds.forEach((c, i) => {
    if (i > 0) where.add(' and ');
    where.add(c.parts.join(''), ...c.params);
  });

  // --- bounding ---
  const min = dialect === 'postgresql' ? 'least' : 'min';
  const k = keyAliases.join(', ');
  const kc = keyAliases.length > 0 ? `, ${k}` : '';
  const L0 = req.bounds.maxPartitions;
  const Linf = req.bounds.maxPerPartition;
  const sql = new Fragment();
  sql.add('with "base" as (').add(select.parts.join(''), ...select.params).add(' from "incident" i');
  sql.add(joins.parts.join(''), ...joins.params).add(where.parts.join(''), ...where.params).add(')');
  if (isSumMeasure(req.measure)) {
    sql.add(`, "picked" as (select "org"${kc}, "v", "dis", row_number() over (partition by "org"${kc} order by random()) as "rr" from "base")`);
    sql.add(`, "cells" as (select "org"${kc}, count(*) as "n", sum("v") as "s", sum("dis") as "dd" from "picked" where "rr" <= ? group by "org"${kc})`, Linf);
  } else {
    sql.add(`, "cells" as (select "org"${kc}, count(*) as "n" from "base" group by "org"${kc})`);
  }
  sql.add(`, "ranked" as (select "org"${kc}, "n"${isSumMeasure(req.measure) ? ', "s", "dd"' : ''}, row_number() over (partition by "org" order by random()) as "pr" from "cells")`);

  const sum = isSumMeasure(req.measure);
  const cellCount = (n: string): string => (sum ? n : `${min}(${n}, ?)`);
  const countParams: SqlParam[] = sum ? [] : [Linf];
  if (output === 'groups') {
    sql.add(`select ${k}${keyAliases.length > 0 ? ', ' : ''}sum(${cellCount('"n"')}) as "cnt", `, ...countParams);
    sql.add(sum ? 'sum("s") as "sm", sum("dd") as "ds", ' : 'null as "sm", null as "ds", ');
    sql.add('sum(sum(case when "pr" = 1 then 1 else 0 end)) over () as "units" from "ranked" where "pr" <= ?', L0);
    if (keyAliases.length > 0) sql.add(` group by ${k}`);
  } else {
    sql.add(`select o."ref" as "org"${keyAliases.map((a) => `, r.${a}`).join('')}, ${cellCount('r."n"')} as "cnt", `, ...countParams);
    sql.add(`${sum ? 'r."s"' : 'null'} as "sm", ${sum ? 'r."dd"' : 'null'} as "ds" from "ranked" r join "organisation" o on o."id" = r."org" where r."pr" <= ?`, L0);
  }
  return { sql: sql.parts.join(''), params: sql.params, dims: dims.length };
}
