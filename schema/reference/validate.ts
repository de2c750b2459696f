/**
 * Checks a node dataset against the public reference data: every country is an ISO 3166-1 code, every
 * sector a primary sector id, every CVE in the KEV catalog, every catalogued actor in the actor catalog,
 * and every incident refers to records that exist. Used by tests and by seeding paths before storing.
 */
import { TLP_LEVELS, type NodeDataset } from '../contract/dataset.js';
import { isCountry } from './countries.js';
import { isSector } from './sectors.js';
import { isKevCve } from './kev.js';
import { actorByName } from './actors.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isIsoDate(s: unknown): boolean {
  if (typeof s !== 'string' || !ISO_DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Problems found in `ds`, each naming the offending record id and field, at most `limit` of them
 * (default 50); an empty array means the dataset is valid. Never throws on malformed input records.
 * The messages name record ids and values, never counts: they are for the node operator only.
 */
export function datasetReferenceProblems(ds: NodeDataset, limit = 50): string[] {
  const problems: string[] = [];
  const add = (p: string) => {
    if (problems.length < limit) problems.push(p);
  };
  const orgs = new Set<string>();
  for (const o of ds.organisations) {
    if (orgs.has(o.id)) add(`organisation ${o.id}: duplicate id`);
    orgs.add(o.id);
    if (!isCountry(o.country)) add(`organisation ${o.id}: country ${JSON.stringify(o.country)} is not ISO 3166-1 alpha-2`);
    if (!isSector(o.sector)) add(`organisation ${o.id}: sector ${JSON.stringify(o.sector)} is not a sector id`);
  }
  const exploits = new Set<string>();
  for (const e of ds.exploits) {
    if (exploits.has(e.id)) add(`exploit ${e.id}: duplicate id`);
    exploits.add(e.id);
    if (e.cve !== undefined && !isKevCve(e.cve)) add(`exploit ${e.id}: ${JSON.stringify(e.cve)} is not in the KEV catalog`);
    if (e.kind !== 'tool' && e.cve === undefined) add(`exploit ${e.id}: kind ${e.kind} without a CVE`);
    if (e.disclosed !== undefined && !isIsoDate(e.disclosed)) add(`exploit ${e.id}: disclosed is not an ISO date`);
  }
  const actors = new Set<string>();
  for (const a of ds.actors) {
    if (actors.has(a.id)) add(`actor ${a.id}: duplicate id`);
    actors.add(a.id);
    if (a.catalogued && actorByName(a.name)?.name !== a.name) add(`actor ${a.id}: ${JSON.stringify(a.name)} is not a catalog name`);
    if (a.country !== undefined && !isCountry(a.country)) add(`actor ${a.id}: country ${JSON.stringify(a.country)} is not ISO 3166-1 alpha-2`);
  }
  const incidents = new Set<string>();
  for (const i of ds.incidents) {
    if (incidents.has(i.id)) add(`incident ${i.id}: duplicate id`);
    incidents.add(i.id);
    if (!isIsoDate(i.date)) add(`incident ${i.id}: date is not an ISO date`);
    if (!isCountry(i.country)) add(`incident ${i.id}: country ${JSON.stringify(i.country)} is not ISO 3166-1 alpha-2`);
    if (!isSector(i.sector)) add(`incident ${i.id}: sector ${JSON.stringify(i.sector)} is not a sector id`);
    if (!Number.isInteger(i.severity) || i.severity < 1 || i.severity > 5) add(`incident ${i.id}: severity outside 1–5`);
    if (!TLP_LEVELS.includes(i.tlp)) add(`incident ${i.id}: TLP ${JSON.stringify(i.tlp)} is not a TLP 2.0 level`);
    if (!orgs.has(i.organisation)) add(`incident ${i.id}: organisation ${i.organisation} does not exist`);
    for (const e of i.exploits) if (!exploits.has(e)) add(`incident ${i.id}: exploit ${e} does not exist`);
    for (const a of i.actors) if (!actors.has(a)) add(`incident ${i.id}: actor ${a} does not exist`);
  }
  return problems;
}
