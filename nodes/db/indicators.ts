/** Indicator values: normalisation and the keyed hash that lets the node match without revealing. */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

const LOWER_CASE_TYPES = new Set(['domain-name', 'email-addr', 'ipv6-addr', 'file:md5', 'file:sha1', 'file:sha256', 'file:sha512', 'mac-addr']);

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

/** Hex HMAC-SHA256 of `type:value` under the node secret (the value must already be normalised). */
export function indicatorHash(secret: string | Buffer, type: string, normalisedValue: string): string {
  return createHmac('sha256', secret).update(`${type}:${normalisedValue}`).digest('hex');
}
