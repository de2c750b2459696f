/**
 * The node operator's own sharing rules (DESIGN §2.3): which members may receive contributions
 * about which sectors, decided by the node whatever the gateway admitted, plus per-member caps for
 * the node's own ledger. Written as a JSON file by the operator; validated completely at load (an
 * unknown sector id or key is an error at startup, never a silent allow).
 *
 * ```json
 * {
 *   "rules": [
 *     { "id": "defence-alliance-only", "sectors": ["defense-industrial-base"], "allowGroups": ["nato"] },
 *     { "id": "no-member-x", "denyMembers": ["member-x"] }
 *   ],
 *   "memberCaps": { "cert-small": { "rho": 0.25 } }
 * }
 * ```
 *
 * A rule applies to a request that can touch one of its `sectors` (the request has no sector filter,
 * or its filter names one of them); a rule without `sectors` applies to every request. An applying
 * rule refuses the member when it is in `denyMembers`, or when the rule has `allowGroups` /
 * `allowMembers` and the member is in neither (no `grp` of the grant in `allowGroups`, its id not
 * in `allowMembers`). Rules are checked in file order; the first refusal names its rule id.
 */
import { readFileSync } from 'node:fs';
import { AccordError } from '../../schema/errors.js';
import { isSector } from '../../schema/reference/sectors.js';
import type { ValidatedRequest } from '../contribution/validate.js';
import { MAX_RHO as MAX_CAP_RHO } from '../../schema/privacy/units.js';

export interface SharingRule {
  /** Stable id, named in refusals. */
  id: string;
  description?: string;
  /** Sector ids of the taxonomy; absent means the rule applies to every request. */
  sectors?: readonly string[];
  /** Members holding one of these groups (`grp` claim) pass. */
  allowGroups?: readonly string[];
  /** These member ids pass. */
  allowMembers?: readonly string[];
  /** These member ids never pass (checked first). */
  denyMembers?: readonly string[];
}

export interface SharingRules {
  rules: readonly SharingRule[];
  /** Per-member ρ caps per period, overriding the node's default member cap. */
  memberCaps: Readonly<Record<string, { rho: number }>>;
}

/** No rules, no per-member caps. */
export const NO_SHARING_RULES: SharingRules = Object.freeze({ rules: Object.freeze([]), memberCaps: Object.freeze({}) });

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RULE_KEYS = new Set(['id', 'description', 'sectors', 'allowGroups', 'allowMembers', 'denyMembers']);
const TOP_KEYS = new Set(['rules', 'memberCaps']);
const MAX_NAME = 255;

function bad(message: string, details: Record<string, unknown> = {}): AccordError {
  return new AccordError('CONFIG_INVALID', message, { field: 'sharingRules', ...details });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, where: string, allowEmpty: boolean): string[] {
  if (!Array.isArray(v) || (!allowEmpty && v.length === 0)) throw bad(`${where} must be a ${allowEmpty ? '' : 'non-empty '}list of strings.`, { at: where });
  for (const s of v) {
    if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME) throw bad(`${where} holds a value that is not a non-empty string of at most ${MAX_NAME} characters.`, { at: where });
  }
  return [...new Set(v as string[])];
}

/**
 * Validates a parsed rules document. Throws AccordError('CONFIG_INVALID') naming the offending
 * rule or key: unknown keys, duplicate or malformed ids, unknown sector ids, empty sector lists, a
 * rule that neither allows nor denies anyone, caps that are not numbers in [0, MAX_CAP_RHO].
 */
export function parseSharingRules(doc: unknown): SharingRules {
  if (!isObject(doc)) throw bad('The sharing rules file must hold a JSON object.');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw bad(`Unknown key "${k.slice(0, 64)}" in the sharing rules; expected "rules" and "memberCaps".`, { at: k.slice(0, 64) });
  const rawRules = doc.rules ?? [];
  if (!Array.isArray(rawRules)) throw bad('"rules" must be a list.', { at: 'rules' });
  const seen = new Set<string>();
  const rules: SharingRule[] = rawRules.map((r, i) => {
    const at = `rules[${i}]`;
    if (!isObject(r)) throw bad(`${at} must be an object.`, { at });
    if (typeof r.id !== 'string' || !RULE_ID.test(r.id)) throw bad(`${at}.id must be 1–64 letters, digits, ".", "-" or "_".`, { at });
    const id = r.id;
    if (seen.has(id)) throw bad(`Rule id "${id}" is used twice.`, { rule: id });
    seen.add(id);
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) throw bad(`Rule "${id}" has an unknown key "${k.slice(0, 64)}".`, { rule: id });
    const rule: SharingRule = { id };
    if (r.description !== undefined) {
      if (typeof r.description !== 'string') throw bad(`Rule "${id}": description must be a string.`, { rule: id });
      rule.description = r.description;
    }
    if (r.sectors !== undefined) {
      const sectors = stringList(r.sectors, `Rule "${id}": sectors`, false);
      for (const s of sectors) if (!isSector(s)) throw bad(`Rule "${id}" names an unknown sector "${s.slice(0, 64)}"; use the sector ids of the taxonomy (e.g. "defense-industrial-base").`, { rule: id, sector: s.slice(0, 64) });
      rule.sectors = sectors;
    }
    if (r.allowGroups !== undefined) rule.allowGroups = stringList(r.allowGroups, `Rule "${id}": allowGroups`, true);
    if (r.allowMembers !== undefined) rule.allowMembers = stringList(r.allowMembers, `Rule "${id}": allowMembers`, true);
    if (r.denyMembers !== undefined) rule.denyMembers = stringList(r.denyMembers, `Rule "${id}": denyMembers`, true);
    if (!rule.allowGroups && !rule.allowMembers && !rule.denyMembers) {
      throw bad(`Rule "${id}" restricts nobody; give allowGroups, allowMembers or denyMembers (an empty allowGroups list refuses every member).`, { rule: id });
    }
    return Object.freeze(rule);
  });
  const rawCaps = doc.memberCaps ?? {};
  if (!isObject(rawCaps)) throw bad('"memberCaps" must be an object of member id → { "rho": number }.', { at: 'memberCaps' });
  const memberCaps: Record<string, { rho: number }> = {};
  for (const [member, cap] of Object.entries(rawCaps)) {
    const m = member.slice(0, 64);
    if (member.length === 0 || member.length > MAX_NAME) throw bad('A memberCaps key is not a member id of 1–255 characters.', { at: 'memberCaps' });
    if (!isObject(cap) || Object.keys(cap).some((k) => k !== 'rho')) throw bad(`memberCaps["${m}"] must be { "rho": number }.`, { member: m });
    const rho = cap.rho;
    if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0 || rho > MAX_CAP_RHO) throw bad(`memberCaps["${m}"].rho must be a number from 0 to ${MAX_CAP_RHO}.`, { member: m });
    memberCaps[member] = Object.freeze({ rho });
  }
  return Object.freeze({ rules: Object.freeze(rules), memberCaps: Object.freeze(memberCaps) });
}

/** Reads and validates a rules file. Throws AccordError('CONFIG_INVALID') when unreadable or invalid. */
export function loadSharingRules(file: string): SharingRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw bad('The sharing rules file cannot be read.', { reason: (e as NodeJS.ErrnoException).code ?? 'read-failed' });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('The sharing rules file is not valid JSON.');
  }
  return parseSharingRules(doc);
}

function touches(rule: SharingRule, request: ValidatedRequest): boolean {
  if (!rule.sectors) return true;
  const filter = request.filter.sectors;
  if (!filter) return true;
  return filter.some((s) => rule.sectors!.includes(s));
}

/** The first rule that refuses `member` (with groups `groups`) for `request`, or undefined. Never throws. */
export function refusingRule(rules: SharingRules, member: string, groups: readonly string[], request: ValidatedRequest): SharingRule | undefined {
  for (const rule of rules.rules) {
    if (!touches(rule, request)) continue;
    if (rule.denyMembers?.includes(member)) return rule;
    if (rule.allowGroups || rule.allowMembers) {
      const allowed = (rule.allowMembers?.includes(member) ?? false) || groups.some((g) => rule.allowGroups?.includes(g) ?? false);
      if (!allowed) return rule;
    }
  }
  return undefined;
}

/**
 * Throws AccordError('POLICY_DENIED') naming the first refusing rule (details `{ rule }`), and
 * returns otherwise. The message carries no count.
 */
export function applySharingRules(rules: SharingRules, member: string, groups: readonly string[], request: ValidatedRequest): void {
  const rule = refusingRule(rules, member, groups, request);
  if (!rule) return;
  const message = rule.sectors
    ? `The node's sharing rule "${rule.id}" does not allow this member contributions that can touch the sectors ${rule.sectors.join(', ')}; filter on other sectors or ask the node operator.`
    : `The node's sharing rule "${rule.id}" does not allow this member any contribution; ask the node operator.`;
  throw new AccordError('POLICY_DENIED', message, { rule: rule.id });
}

/** The member's ρ cap per period: its override in the rules file, else `defaultRho`. */
export function memberCapRho(rules: SharingRules, member: string, defaultRho: number): number {
  return Object.hasOwn(rules.memberCaps, member) ? rules.memberCaps[member]!.rho : defaultRho;
}
