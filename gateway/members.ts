/**
 * Members: the agencies that may ask the federation questions, registered by platform staff in a
 * JSON file. A member's token (`sub`) must name one of them; access policies see a member's region
 * (UN M49), its groups (alliances, communities) and its TLP ceiling.
 *
 *   [ { "id": "fr-anssi", "name": "ANSSI / CERT-FR", "region": "Europe", "groups": ["eu", "nato"], "tlpCeiling": "AMBER" } ]
 */
import { readFileSync } from 'node:fs';
import { AccordError } from '../schema/errors.js';
import { isRegion } from '../schema/reference/index.js';

/** TLP levels a member may receive contributions from, lowest first (AMBER+STRICT and RED never leave a node). */
export const TLP_CEILINGS = ['CLEAR', 'GREEN', 'AMBER'] as const;
export type TlpCeiling = (typeof TLP_CEILINGS)[number];

export interface Member {
  /** Stable id; the `sub` of the member's tokens. */
  id: string;
  name: string;
  /** UN M49 region name, e.g. `Europe`. */
  region: string;
  /** Groups the member belongs to, e.g. `eu`, `nato`, `sector-isac`. Nodes' sharing rules see them too. */
  groups: string[];
  /** Highest TLP level counted in the member's answers (default AMBER: everything nodes contribute). */
  tlpCeiling: TlpCeiling;
  /**
   * Roles platform staff granted the member (default none). A token acts in a role only when the
   * member holds it here **and** the token asks for it (`roles` claim): a claim alone grants nothing.
   */
  roles: MemberRole[];
}

/** Roles a member may hold: `staff` may reload the access configuration and see node endpoints. */
export const MEMBER_ROLES = ['staff'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const GROUP_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

function invalid(message: string): never {
  throw new AccordError('CONFIG_INVALID', message);
}

/**
 * Validates a members list (unique ids, a UN M49 region, well-formed groups, a known TLP ceiling).
 * Throws AccordError('CONFIG_INVALID') naming the offending entry.
 */
export function validateMembers(value: unknown): Member[] {
  if (!Array.isArray(value)) invalid('The members list must be a JSON array of { id, name, region, groups, tlpCeiling? }.');
  const seen = new Set<string>();
  return value.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null) invalid(`Member entry ${i} is not an object.`);
    const m = raw as Record<string, unknown>;
    if (typeof m.id !== 'string' || !ID_RE.test(m.id)) invalid(`Member entry ${i}: id must match ${ID_RE.source}.`);
    if (seen.has(m.id)) invalid(`Member id "${m.id}" is listed twice.`);
    seen.add(m.id);
    if (typeof m.name !== 'string' || m.name.trim() === '') invalid(`Member "${m.id}": name must be a non-empty string.`);
    if (typeof m.region !== 'string' || !isRegion(m.region)) invalid(`Member "${m.id}": region must be a UN M49 region name (Africa, Americas, Antarctica, Asia, Europe, Oceania).`);
    const groups = m.groups ?? [];
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && GROUP_RE.test(g))) {
      invalid(`Member "${m.id}": groups must be a list of names matching ${GROUP_RE.source}.`);
    }
    const tlp = m.tlpCeiling ?? 'AMBER';
    if (!TLP_CEILINGS.includes(tlp as TlpCeiling)) invalid(`Member "${m.id}": tlpCeiling must be one of ${TLP_CEILINGS.join(', ')}.`);
    const roles = m.roles ?? [];
    if (!Array.isArray(roles) || !roles.every((r) => MEMBER_ROLES.includes(r as MemberRole))) invalid(`Member "${m.id}": roles must be a list of ${MEMBER_ROLES.join(', ')}.`);
    return { id: m.id, name: m.name, region: m.region, groups: [...new Set(groups as string[])].sort(), tlpCeiling: tlp as TlpCeiling, roles: [...new Set(roles as MemberRole[])].sort() };
  });
}

/** Reads and validates a members file. Throws AccordError('CONFIG_INVALID'). */
export function loadMembersFile(path: string): Member[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    invalid(`Cannot read the members file "${path}"; pass --members <file> (npm start writes a demo one under ./data).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    invalid(`The members file "${path}" is not valid JSON.`);
  }
  return validateMembers(parsed);
}

/** The TLP levels counted for a member (every level up to its ceiling). */
export function tlpLevelsUpTo(ceiling: TlpCeiling): string[] {
  return TLP_CEILINGS.slice(0, TLP_CEILINGS.indexOf(ceiling) + 1);
}
