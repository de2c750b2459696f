/**
 * A test gateway signing key: an Ed25519 key pair, its public JWKS (written to a file for nodes'
 * `gatewayJwks`), and grants signed exactly as the gateway signs them (compact JWS, alg EdDSA,
 * `typ: GRANT_TYPE`, `kid`, claims `GrantClaims`, exp = iat + 60 s by default).
 *
 *   const gw = await createGatewayKey();
 *   const jwks = gw.writeJwks(dir);                       // → <dir>/gateway.jwks.json
 *   const node = await createNode({ id: 'node-a', gatewayJwks: jwks, ... });
 *   const grant = await gw.grantFor(request, { aud: 'node-a', sub: 'cert-x' });
 *   fetch(node.url, { headers: { [GRANT_HEADER]: grant }, ... });
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { ContributionRequest } from '../../schema/contract/contribution.js';
import { contributionFingerprint, GRANT_TYPE, type GrantClaims } from '../../schema/contract/grant.js';

/** Claims a test may set; the rest get defaults (see {@link GatewayKey.grantFor}). */
export type GrantOverrides = Partial<GrantClaims> & {
  /** Lifetime in seconds when `exp` is not given (default 60). */
  ttl?: number;
  /** Replaces the JWS `typ` header. */
  typ?: string;
  /** Replaces the JWS `kid` header. */
  kid?: string;
};

export interface GatewayKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** `{ keys: [publicJwk] }`. */
  jwks: { keys: JWK[] };
  /** Writes the public JWKS to `<dir>/<name>` (default `gateway.jwks.json`) and returns the path. */
  writeJwks(dir: string, name?: string): string;
  /** Signs `claims` as given (no defaults), with this key's kid unless `header.kid` replaces it. */
  sign(claims: Record<string, unknown>, header?: { typ?: string; kid?: string; alg?: string }): Promise<string>;
  /**
   * A grant for `request`: fp = contributionFingerprint(request), iss `accord-gateway`, sub `member-a`,
   * grp [], rho 0.1, delta 0, per = current month, fresh jti, iat = now, exp = iat + ttl (60);
   * `overrides` replace any of them. `aud` is required.
   */
  grantFor(request: ContributionRequest, overrides: GrantOverrides & { aud: string }): Promise<string>;
}

/** Creates a fresh Ed25519 gateway key with id `kid`. */
export async function createGatewayKey(kid = `test-gateway-${randomUUID().slice(0, 8)}`): Promise<GatewayKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const jwks = { keys: [publicJwk] };
  const sign = async (claims: Record<string, unknown>, header: { typ?: string; kid?: string; alg?: string } = {}): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: header.alg ?? 'EdDSA', typ: header.typ ?? GRANT_TYPE, kid: header.kid ?? kid }).sign(privateKey);
  return {
    kid,
    privateKey,
    publicJwk,
    jwks,
    writeJwks(dir, name = 'gateway.jwks.json') {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(jwks));
      return file;
    },
    sign,
    async grantFor(request, overrides) {
      const { ttl, typ, kid: headerKid, ...claims } = overrides;
      const iat = claims.iat ?? Math.floor(Date.now() / 1000);
      const full: GrantClaims = {
        iss: 'accord-gateway',
        sub: 'member-a',
        grp: [],
        fp: contributionFingerprint(request),
        rho: 0.1,
        delta: 0,
        per: new Date().toISOString(),
        jti: randomUUID(),
        ...claims,
        iat,
        exp: claims.exp ?? iat + (ttl ?? 60),
      };
      return sign(full as unknown as Record<string, unknown>, { typ, kid: headerKid });
    },
  };
}
