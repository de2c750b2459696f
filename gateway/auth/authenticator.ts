/**
 * Member authentication: every GraphQL request carries `Authorization: Bearer <JWT>`, verified with
 * jose — signature (keys from a local JWKS file, an inline JWKS, or a JWKS URL), issuer, audience,
 * expiry (required, at most `maxTokenLifetimeSec` ahead) with a clock tolerance. The token's `sub` must be a registered member; it acts
 * as platform staff only when the member registry grants the member the `staff` role and the
 * token's `roles` claim asks for it (a claim alone grants nothing). Anything else is UNAUTHENTICATED (401), and
 * the request reaches nothing else.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { AccordError } from '../../schema/errors.js';
import type { Member } from '../members.js';

/** An authenticated caller. */
export interface Principal {
  member: Member;
  /** Platform staff: the registry grants the role and the token's `roles` claim asks for it. */
  staff: boolean;
}

export interface AuthOptions {
  /** A JWKS given inline. */
  jwks?: JSONWebKeySet;
  /** A local JWKS file (re-read on reload). */
  jwksFile?: string;
  /** A JWKS URL (fetched and cached by jose; keys are re-fetched for an unknown `kid`). */
  jwksUrl?: string;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud`. */
  audience: string;
  /** Accepted clock skew for `exp`/`nbf`/`iat`, seconds (default 30). */
  clockToleranceSec?: number;
  /** Longest a token may still be valid for (`exp` − now), seconds (default one day). */
  maxTokenLifetimeSec?: number;
}

/** Asymmetric algorithms accepted for member tokens (never `none` or HMAC). */
export const TOKEN_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

function unauthenticated(message: string): AccordError {
  return new AccordError('UNAUTHENTICATED', message);
}

function readJwks(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new AccordError('CONFIG_INVALID', `Cannot read the token JWKS file "${path}"; pass --jwks-file <file> or --jwks-url <url> (npm start creates a development key).`);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new AccordError('CONFIG_INVALID', `The token JWKS file "${path}" holds no keys.`);
  return parsed as JSONWebKeySet;
}

export class Authenticator {
  private keys: JWTVerifyGetKey;

  /**
   * `lookup` finds the member a token names (the access configuration in force).
   * Throws AccordError('CONFIG_INVALID') when no key source is given or a JWKS file is unreadable.
   */
  constructor(
    private readonly options: AuthOptions,
    private readonly lookup: (memberId: string) => Member | undefined,
  ) {
    this.keys = this.load();
  }

  private load(): JWTVerifyGetKey {
    const o = this.options;
    if (o.jwks) return createLocalJWKSet(o.jwks);
    if (o.jwksFile) return createLocalJWKSet(readJwks(o.jwksFile));
    if (o.jwksUrl) {
      let url: URL;
      try {
        url = new URL(o.jwksUrl);
      } catch {
        throw new AccordError('CONFIG_INVALID', 'The token JWKS URL is not an absolute URL.');
      }
      return createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    }
    throw new AccordError('CONFIG_INVALID', 'No token keys configured; pass --jwks-file <file> or --jwks-url <url>.');
  }

  /** Re-reads a JWKS file (key rotation); keeps the old keys and throws CONFIG_INVALID when it cannot. */
  reload(): void {
    if (this.options.jwksFile) this.keys = this.load();
  }

  /**
   * Verifies the `Authorization` header value and returns the caller. Throws
   * AccordError('UNAUTHENTICATED') for a missing or malformed header, a bad signature or unknown
   * key, a wrong issuer or audience, an expired or not-yet-valid token, a token without `exp` or
   * `sub`, or a `sub` that is not a registered member. Messages never echo the token.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i.exec(authorization ?? '');
    if (!m) throw unauthenticated('Send a member token: "Authorization: Bearer <JWT>".');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(m[1]!, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSec ?? 30,
        algorithms: TOKEN_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired; get a new one.');
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw unauthenticated(`The token was refused: its "${e.claim}" claim is missing or not accepted by this gateway.`);
      if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw unauthenticated('The token is not signed by a key this gateway trusts.');
      }
      if (e instanceof joseErrors.JWKSTimeout || (e instanceof joseErrors.JOSEError && e.code === 'ERR_JWKS_INVALID')) {
        throw unauthenticated('The token keys could not be fetched; retry later.');
      }
      throw unauthenticated('The token is malformed or uses an algorithm this gateway does not accept.');
    }
    const maxLifetime = this.options.maxTokenLifetimeSec ?? 24 * 3600;
    if ((payload.exp as number) - Date.now() / 1000 > maxLifetime + (this.options.clockToleranceSec ?? 30)) {
      throw new AccordError('UNAUTHENTICATED', 'The token is valid for longer than this gateway accepts; get a shorter-lived one.', { maxLifetimeSec: maxLifetime });
    }
    const sub = payload.sub;
    const member = typeof sub === 'string' ? this.lookup(sub) : undefined;
    if (!member) throw unauthenticated('The token does not name a registered member; ask platform staff to register it.');
    // staff: the registry grants the role and the token asks for it; a claim alone grants nothing
    const roles = payload.roles;
    const staff = member.roles.includes('staff') && Array.isArray(roles) && roles.includes('staff');
    return { member, staff };
  }
}
