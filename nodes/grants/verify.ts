/**
 * Verifying one grant (schema/contract/grant.ts): a compact JWS signed by the gateway with EdDSA,
 * header `typ: GRANT_TYPE`, claims exactly `GrantClaims`. Checks signature, algorithm, type,
 * issuer, audience (this node), expiry with a small clock tolerance, issue time not in the future,
 * lifetime at most MAX_GRANT_TTL_SECONDS, and the shape of every claim. Pure of storage: replay and
 * ledger checks come after, in `store.ts`.
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { GRANT_TYPE, MAX_GRANT_TTL_SECONDS, type GrantClaims } from '../../schema/contract/grant.js';
import { AccordError } from '../../schema/errors.js';

/** Seconds of clock difference tolerated between gateway and node. */
export const GRANT_CLOCK_TOLERANCE_SECONDS = 5;

/** Largest ρ one grant may charge (the privacy core's upper limit). */
export const MAX_GRANT_RHO = 50;
/** Largest δ one grant may charge. */
export const MAX_GRANT_DELTA = 0.01;

/** Why a grant was refused; `details.reason` of the GRANT_INVALID error. */
export type GrantRefusal =
  | 'missing'
  | 'malformed'
  | 'signature'
  | 'algorithm'
  | 'type'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not-yet-valid'
  | 'ttl'
  | 'claims'
  | 'keys-unavailable'
  | 'fingerprint'
  | 'reserved-at'
  | 'replay'
  | 'not-configured';

/** A GRANT_INVALID error with `details.reason`. */
export function grantInvalid(reason: GrantRefusal, message: string): AccordError {
  return new AccordError('GRANT_INVALID', message, { reason });
}

export interface VerifyOptions {
  keys: JWTVerifyGetKey;
  /** This node's id: the only accepted audience. */
  nodeId: string;
  /** Accepted issuer. */
  issuer: string;
  clockToleranceSeconds?: number;
  /** Verification time (default now). */
  now?: Date;
}

const FP = /^[0-9a-f]{64}$/;
/** `per`: the ISO 8601 UTC instant of the gateway's reservation. */
const INSTANT = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
const MAX_ID = 255;
const MAX_GROUPS = 100;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;

function checkClaims(p: Record<string, unknown>): GrantClaims {
  const fail = (claim: string): never => {
    throw grantInvalid('claims', `The grant's "${claim}" claim is missing or malformed.`);
  };
  if (!isId(p.iss)) fail('iss');
  if (!isId(p.aud)) fail('aud');
  if (!isId(p.sub)) fail('sub');
  if (!Array.isArray(p.grp) || p.grp.length > MAX_GROUPS || !p.grp.every(isId)) fail('grp');
  if (typeof p.fp !== 'string' || !FP.test(p.fp)) fail('fp');
  if (typeof p.rho !== 'number' || !Number.isFinite(p.rho) || p.rho <= 0 || p.rho > MAX_GRANT_RHO) fail('rho');
  if (typeof p.delta !== 'number' || !Number.isFinite(p.delta) || p.delta < 0 || p.delta > MAX_GRANT_DELTA) fail('delta');
  if (typeof p.per !== 'string' || !INSTANT.test(p.per) || Number.isNaN(Date.parse(p.per))) fail('per');
  if (!isId(p.jti)) fail('jti');
  if (!Number.isSafeInteger(p.iat)) fail('iat');
  if (!Number.isSafeInteger(p.exp)) fail('exp');
  return {
    iss: p.iss as string,
    aud: p.aud as string,
    sub: p.sub as string,
    grp: [...(p.grp as string[])],
    fp: p.fp as string,
    rho: p.rho as number,
    delta: p.delta as number,
    per: p.per as string,
    jti: p.jti as string,
    iat: p.iat as number,
    exp: p.exp as number,
  };
}

function refusalOf(e: unknown): AccordError {
  if (e instanceof AccordError) return e;
  if (e instanceof errors.JWTExpired) {
    return e.claim === 'iat' ? grantInvalid('ttl', 'The grant was issued too long ago.') : grantInvalid('expired', 'The grant has expired; the gateway must issue a new one.');
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'aud':
        return grantInvalid('audience', 'The grant is for another node.');
      case 'iss':
        return grantInvalid('issuer', 'The grant was not issued by the gateway this node trusts.');
      case 'typ':
        return grantInvalid('type', `The grant's JWS header must say typ "${GRANT_TYPE}".`);
      case 'iat':
      case 'nbf':
        return grantInvalid('not-yet-valid', 'The grant is not valid yet; check the clocks of gateway and node.');
      default:
        return grantInvalid('claims', `The grant's "${String(e.claim).slice(0, 32)}" claim is missing or malformed.`);
    }
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return grantInvalid('algorithm', 'The grant must be signed with EdDSA.');
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
    return grantInvalid('signature', "The grant's signature does not verify with the gateway keys this node trusts.");
  }
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported) return grantInvalid('malformed', 'The grant is not a well-formed compact JWS.');
  const err = grantInvalid('keys-unavailable', "The node could not obtain the gateway's public keys to verify the grant.");
  (err as Error).cause = e; // for the node's own log only; never serialised into a response
  return err;
}

/**
 * Verifies `token` and returns its claims. Throws AccordError('GRANT_INVALID') with
 * `details.reason` (a {@link GrantRefusal}) for every failure; never throws anything else.
 */
export async function verifyGrant(token: string | undefined, o: VerifyOptions): Promise<GrantClaims> {
  if (typeof token !== 'string' || token.length === 0) throw grantInvalid('missing', 'The contribution request carries no grant; only the gateway may ask for contributions.');
  if (token.length > 8192) throw grantInvalid('malformed', 'The grant is too long.');
  const tolerance = o.clockToleranceSeconds ?? GRANT_CLOCK_TOLERANCE_SECONDS;
  try {
    const { payload } = await jwtVerify(token, o.keys, {
      algorithms: ['EdDSA'],
      typ: GRANT_TYPE,
      issuer: o.issuer,
      audience: o.nodeId,
      clockTolerance: tolerance,
      maxTokenAge: MAX_GRANT_TTL_SECONDS,
      requiredClaims: ['iss', 'aud', 'sub', 'grp', 'fp', 'rho', 'delta', 'per', 'jti', 'iat', 'exp'],
      ...(o.now ? { currentDate: o.now } : {}),
    });
    const claims = checkClaims(payload as Record<string, unknown>);
    if (claims.aud !== o.nodeId) throw grantInvalid('audience', 'The grant is for another node.');
    if (claims.exp - claims.iat > MAX_GRANT_TTL_SECONDS) throw grantInvalid('ttl', `The grant lives longer than ${MAX_GRANT_TTL_SECONDS} s; the gateway must issue short-lived grants.`);
    if (claims.exp <= claims.iat) throw grantInvalid('claims', 'The grant expires before it was issued.');
    return claims;
  } catch (e) {
    throw refusalOf(e);
  }
}
