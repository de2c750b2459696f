/**
 * Keyed pseudonyms. An organisation is known on the node only as an HMAC-SHA256 (under the node
 * secret, like indicator hashes) of where it came from: the STIX id of its identity, or the MISP
 * organisation / CSV column value. Its name is never stored; the pseudonym is not reversible without
 * the node secret.
 */
import { createHmac } from 'node:crypto';
import { countryByName } from '../../schema/reference/countries.js';
import { isSector, sectorFromName, sectorFromStix, type SectorId } from '../../schema/reference/sectors.js';
import type { RegionLookup } from '../db/regions.js';

function hmac(secret: string | Buffer, data: string): Buffer {
  return createHmac('sha256', secret).update(data, 'utf8').digest();
}

/** The organisation pseudonym for a victim or reporting identity (`org-` + 32 hex digits). */
export function organisationKey(secret: string | Buffer, identityStixId: string): string {
  return `org-${hmac(secret, `organisation:${identityStixId}`).subarray(0, 16).toString('hex')}`;
}

/**
 * A STIX id (`<type>--<uuid>`) derived from a name under the node secret, for objects that MISP events
 * and CSV rows are mapped onto. Deterministic for a node, so re-imports hit the same objects; keyed,
 * so a stored id does not reveal the name it was made from.
 */
export function keyedStixId(secret: string | Buffer, type: string, name: string): string {
  const b = hmac(secret, `stix-id:${type}:${name}`).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${type}--${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The node's sector id for a sector value: a STIX `industry-sector-ov` value first, then a sector id of
 * the taxonomy, then a free-text name (MISP galaxy, NIS2, CISA names and synonyms). Undefined when
 * unknown. Never throws.
 */
export function resolveSector(value: unknown): SectorId | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (v.length === 0) return undefined;
  return sectorFromStix(v) ?? (isSector(v.toLowerCase()) ? (v.toLowerCase() as SectorId) : undefined) ?? sectorFromName(v);
}

/**
 * ISO 3166-1 alpha-2 for a country value (alpha-2, alpha-3 or an English name, case-insensitive) that
 * the node's region lookup knows; undefined otherwise. Never throws.
 */
export function resolveCountry(value: unknown, regions: RegionLookup): string | undefined {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 200) return undefined;
  const c = countryByName(value)?.alpha2;
  return c !== undefined && regions(c) !== undefined ? c : undefined;
}

/**
 * The 53-bit lookup key of a STIX id (cyrb53 string hash): what the registry and edge indexes hold.
 * Different ids may share a key; every lookup also compares the id itself. Never throws.
 */
export function stixKey(id: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
