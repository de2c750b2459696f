/**
 * Indicator values and the keyed hash nodes store instead of them (DESIGN §2: indicators never
 * leave a node). Shared by the nodes (hashing at ingestion) and the gateway (hashing the value an
 * analyst asks about): both must normalise and hash identically or nothing matches.
 *
 * The key is the federation's indicator key, held by the gateway and by every node that answers
 * indicator questions; a node without it hashes under its own secret and refuses indicator filters.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

/** Indicator types Accord recognises (STIX cyber-observable names; hashes as `file:<algo>`). */
export const INDICATOR_TYPES = ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file:md5', 'file:sha1', 'file:sha256', 'file:sha512', 'mac-addr'] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

const LOWER_CASE_TYPES = new Set(['domain-name', 'email-addr', 'ipv6-addr', 'file:md5', 'file:sha1', 'file:sha256', 'file:sha512', 'mac-addr']);

/** Hex length of each file hash type. */
export const HASH_HEX_LENGTH: Readonly<Record<string, number>> = { 'file:md5': 32, 'file:sha1': 40, 'file:sha256': 64, 'file:sha512': 128 };

/**
 * A canonical form of an indicator value: trimmed; lower-cased for case-insensitive types (domains,
 * e-mail addresses, hashes, IPv6); a trailing dot dropped from domains; leading zeros dropped from
 * IPv4 octets. Returns undefined for an empty value or a malformed IPv4 address.
 */
export function normaliseIndicator(type: string, value: string): string | undefined {
  let v = value.trim();
  if (v.length === 0) return undefined;
  if (LOWER_CASE_TYPES.has(type)) v = v.toLowerCase();
  if (type === 'domain-name' && v.endsWith('.')) v = v.slice(0, -1);
  if (type === 'ipv4-addr') {
    const [addr, prefix] = v.split('/', 2) as [string, string | undefined];
    const octets = addr.split('.');
    if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined;
    v = octets.map((o) => String(Number(o))).join('.') + (prefix !== undefined ? `/${Number(prefix)}` : '');
    if (isIP(v.split('/')[0]!) !== 4) return undefined;
  }
  return v.length > 0 ? v : undefined;
}

/** Hex HMAC-SHA256 of `type:value` under `key` (the value must already be normalised). */
export function indicatorHash(key: string | Buffer, type: string, normalisedValue: string): string {
  return createHmac('sha256', key).update(`${type}:${normalisedValue}`).digest('hex');
}

/** A well-formed indicator hash as carried in `ContributionFilter.indicators`. */
export function isIndicatorHash(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}
