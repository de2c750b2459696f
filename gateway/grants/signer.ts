/**
 * Signed grants (DESIGN §2.3): for every contribution request the gateway signs a short-lived
 * statement that one member may obtain that one contribution from that one node — a compact JWS
 * (EdDSA, `typ: accord-grant+jwt`) carrying {@link GrantClaims}, sent in the `GRANT_HEADER` header.
 *
 * The signing key is an Ed25519 private JWK in a file (generated on first start, mode 0600). Its
 * public half is served at `GET /.well-known/accord-grant-keys.json` and written to a JWKS file
 * that node operators pass to their nodes (`--gateway-jwks`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { contributionFingerprint, GRANT_TYPE, MAX_GRANT_TTL_SECONDS, type ContributionRequest, type GrantClaims } from '../../schema/contract/index.js';
import { AccordError } from '../../schema/errors.js';
import { generateEd25519 } from '../auth/dev-issuer.js';

/** Grant lifetime: long enough for one contribution request, far below what nodes accept. */
export const GRANT_TTL_SECONDS = 60;

/** The path where grant keys are served. */
export const GRANT_KEYS_PATH = '/.well-known/accord-grant-keys.json';

function readPrivate(path: string): JWK {
  try {
    const jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string') throw new Error('bad key');
    return jwk;
  } catch {
    throw new AccordError('CONFIG_INVALID', `"${path}" is not the gateway's Ed25519 signing key (a private JWK with a kid); move it away to generate a new one.`);
  }
}

/** The public JWKS of a private signing JWK. */
export function publicJwks(privateJwk: JWK): JSONWebKeySet {
  const { d: _d, ...pub } = privateJwk;
  return { keys: [{ ...pub, alg: 'EdDSA', use: 'sig' }] };
}

/**
 * Reads the signing key from `file`, generating it first (mode 0600) when the file does not exist.
 * When `jwksOut` is given, writes the public JWKS there. Throws CONFIG_INVALID for an unreadable key.
 */
export async function ensureSigningKey(file: string, jwksOut?: string): Promise<{ privateJwk: JWK; jwks: JSONWebKeySet }> {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const { privateJwk } = await generateEd25519();
    try {
      writeFileSync(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process created it first
    }
  }
  const privateJwk = readPrivate(file);
  const jwks = publicJwks(privateJwk);
  if (jwksOut) {
    mkdirSync(dirname(jwksOut), { recursive: true });
    writeFileSync(jwksOut, `${JSON.stringify(jwks, null, 2)}\n`);
  }
  return { privateJwk, jwks };
}

/** What one grant states (besides the node, which becomes `aud`). */
export interface GrantInput {
  member: string;
  groups: readonly string[];
  /** The exact request the node will receive. */
  request: ContributionRequest;
  /** zCDP charge per node. */
  rho: number;
  delta: number;
  /** ISO 8601 time of the reservation that paid for it. */
  reservedAt: string;
}

export class GrantSigner {
  private constructor(
    private readonly key: CryptoKey | Uint8Array,
    readonly kid: string,
    readonly jwks: JSONWebKeySet,
    readonly issuer: string,
  ) {}

  /** A signer over a private Ed25519 JWK (with `kid`); `issuer` becomes every grant's `iss`. */
  static async create(privateJwk: JWK, issuer: string): Promise<GrantSigner> {
    if (!privateJwk.kid) throw new AccordError('CONFIG_INVALID', 'The grant signing key needs a kid.');
    const key = (await importJWK(privateJwk, 'EdDSA')) as CryptoKey | Uint8Array;
    return new GrantSigner(key, privateJwk.kid, publicJwks(privateJwk), issuer);
  }

  /** Signs the grant for `node`; returns the compact JWS and its claims. */
  async sign(node: string, g: GrantInput, now: number = Date.now()): Promise<{ token: string; claims: GrantClaims }> {
    const iat = Math.floor(now / 1000);
    const claims: GrantClaims = {
      iss: this.issuer,
      aud: node,
      sub: g.member,
      grp: [...g.groups],
      fp: contributionFingerprint(g.request),
      rho: g.rho,
      delta: g.delta,
      per: g.reservedAt,
      jti: randomUUID(),
      iat,
      exp: iat + Math.min(GRANT_TTL_SECONDS, MAX_GRANT_TTL_SECONDS),
    };
    const token = await new SignJWT(claims as unknown as Record<string, unknown>)
      .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYPE, kid: this.kid })
      .sign(this.key);
    return { token, claims };
  }
}
