/**
 * The gateway's public keys, from which grants are verified: a JWKS file on the node's disk or a
 * JWKS URL served by the gateway. A file is read at startup (a missing, unreadable or empty file
 * stops the node) and read again when a grant names a key it does not hold and the file changed
 * since, so the gateway can rotate keys without restarting nodes. A URL is fetched on first use and
 * cached by `jose` (refetched on an unknown `kid`, at most every 30 s).
 */
import { readFileSync, statSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { AccordError } from '../../schema/errors.js';

/** True when `spec` names a JWKS URL rather than a file. */
export function isJwksUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

function bad(message: string, details: Record<string, unknown> = {}): AccordError {
  return new AccordError('CONFIG_INVALID', message, { field: 'gatewayJwks', ...details });
}

/** Reads and checks a JWKS file: a `{ "keys": [...] }` object holding at least one OKP (Ed25519/Ed448) key. */
export function readJwksFile(file: string): JSONWebKeySet {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? 'not-json';
    throw bad('The gateway JWKS file cannot be read as JSON.', { reason });
  }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw bad('The gateway JWKS file must be an object { "keys": [...] } with at least one key.');
  if (!keys.some((k) => (k as { kty?: unknown })?.kty === 'OKP')) throw bad('The gateway JWKS file holds no EdDSA (OKP) public key.');
  for (const k of keys) {
    if (typeof (k as { d?: unknown })?.d === 'string') throw bad('The gateway JWKS file holds a private key; give the nodes only public keys.');
  }
  return doc as JSONWebKeySet;
}

/**
 * A key resolver for `jwtVerify` over `spec` (file path or http(s) URL). Throws
 * AccordError('CONFIG_INVALID') for an unreadable or malformed file or URL.
 */
export function gatewayKeySet(spec: string): JWTVerifyGetKey {
  if (isJwksUrl(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw bad('The gateway JWKS URL is malformed.');
    }
    return createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  }
  let mtime = statSync(spec, { throwIfNoEntry: false })?.mtimeMs;
  let local = createLocalJWKSet(readJwksFile(spec));
  let lastCheck = 0;
  return async (header, token) => {
    try {
      return await local(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey) || Date.now() - lastCheck < 1000) throw e;
      lastCheck = Date.now();
      const now = statSync(spec, { throwIfNoEntry: false })?.mtimeMs;
      if (now === undefined || now === mtime) throw e;
      local = createLocalJWKSet(readJwksFile(spec));
      mtime = now;
      return local(header, token);
    }
  };
}
