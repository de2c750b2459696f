/**
 * A development token issuer for the embedded demo: an Ed25519 key under the data folder
 * (`dev-issuer.jwk`, private, mode 0600) and its public JWKS (`dev-jwks.json`), which the gateway
 * trusts through `--jwks-file`. Production deployments use their identity provider's JWKS instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { AccordError } from '../../schema/errors.js';

export const DEV_ISSUER = 'accord-dev-issuer';
export const DEFAULT_AUDIENCE = 'accord-gateway';

export interface DevIssuerFiles {
  /** Private key (JWK). */
  keyFile: string;
  /** Public JWKS. */
  jwksFile: string;
}

/** The default file names under a data folder. */
export function devIssuerFiles(dataDir: string): DevIssuerFiles {
  return { keyFile: join(dataDir, 'dev-issuer.jwk'), jwksFile: join(dataDir, 'dev-jwks.json') };
}

/**
 * Generates an Ed25519 key pair (with a `kid` thumbprint) as private JWK and public JWK.
 */
export async function generateEd25519(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const { d: _d, ...pub } = privateJwk;
  const kid = await calculateJwkThumbprint(pub);
  return { privateJwk: { ...privateJwk, kid, alg: 'EdDSA', use: 'sig' }, publicJwk: { ...pub, kid, alg: 'EdDSA', use: 'sig' } };
}

/**
 * Makes sure the development issuer's key and JWKS exist (creating both when the key is missing;
 * the key file is written with mode 0600) and returns their paths.
 */
export async function ensureDevIssuer(files: DevIssuerFiles): Promise<DevIssuerFiles> {
  if (!existsSync(files.keyFile)) {
    mkdirSync(dirname(files.keyFile), { recursive: true });
    const { privateJwk, publicJwk } = await generateEd25519();
    writeFileSync(files.keyFile, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(files.jwksFile, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`);
  } else if (!existsSync(files.jwksFile)) {
    const { d: _d, ...pub } = readKey(files.keyFile);
    writeFileSync(files.jwksFile, `${JSON.stringify({ keys: [pub] }, null, 2)}\n`);
  }
  return files;
}

function readKey(path: string): JWK {
  try {
    const jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new Error('not an Ed25519 private JWK');
    return jwk;
  } catch {
    throw new AccordError('CONFIG_INVALID', `"${path}" is not an Ed25519 private key in JWK form.`);
  }
}

export interface MintOptions {
  /** Private JWK, or the path of a private JWK file. */
  key: JWK | string;
  member: string;
  issuer?: string;
  audience?: string;
  /** Lifetime in seconds (default 12 h). */
  ttlSeconds?: number;
  staff?: boolean;
}

/** Signs a member token (EdDSA JWT: iss, aud, sub, iat, exp, and `roles: ["staff"]` for staff). */
export async function mintToken(o: MintOptions): Promise<string> {
  const jwk = typeof o.key === 'string' ? readKey(o.key) : o.key;
  const key = await importJWK(jwk, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(o.staff ? { roles: ['staff'] } : {})
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...(jwk.kid ? { kid: jwk.kid } : {}) })
    .setIssuer(o.issuer ?? DEV_ISSUER)
    .setAudience(o.audience ?? DEFAULT_AUDIENCE)
    .setSubject(o.member)
    .setIssuedAt(now)
    .setExpirationTime(now + (o.ttlSeconds ?? 12 * 3600))
    .sign(key);
}
