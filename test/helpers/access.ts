/**
 * Access-control fixtures for tests: a temporary folder with a member-token issuer (Ed25519 key and
 * JWKS), members, Cedar policies, optional budgets, a ledger database path and a grant signing key
 * path; `token()` mints member tokens; `access()` is the `access` option of createGateway (and
 * `cliArgs()` the same as gateway CLI flags).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importJWK, type JWK } from 'jose';
import { DEFAULT_AUDIENCE, DEV_ISSUER, generateEd25519 } from '../../gateway/auth/dev-issuer.js';
import type { AccessConfig } from '../../gateway/config.js';
import type { BudgetConfigInput } from '../../gateway/ledger/budgets.js';
import type { Member } from '../../gateway/members.js';

/** Members used by default: two regions, a staff account, a reduced TLP ceiling. */
export const TEST_MEMBERS: Member[] = [
  { id: 'eu-analyst', name: 'EU analyst', region: 'Europe', groups: ['eu', 'nato'], tlpCeiling: 'AMBER', roles: [] },
  { id: 'asia-analyst', name: 'Asia analyst', region: 'Asia', groups: ['partner'], tlpCeiling: 'AMBER', roles: [] },
  { id: 'green-analyst', name: 'Analyst with a GREEN ceiling', region: 'Europe', groups: ['eu'], tlpCeiling: 'GREEN', roles: [] },
  { id: 'platform-staff', name: 'Platform staff', region: 'Europe', groups: ['staff'], tlpCeiling: 'AMBER', roles: ['staff'] },
];

export const ALLOW_ALL = '@id("allow-all")\npermit (principal, action, resource);\n';

export interface TokenOptions {
  staff?: boolean;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  audience?: string;
  issuer?: string;
  /** Sign with another key (not in the gateway's JWKS). */
  key?: JWK;
  /** Leave out `exp`. */
  noExp?: boolean;
}

export interface AccessFixture {
  dir: string;
  members: Member[];
  membersFile: string;
  policiesFile: string;
  budgetsFile?: string;
  jwksFile: string;
  issuerKey: JWK;
  db: string;
  signingKey: string;
  signingJwksOut: string;
  token(member: string, options?: TokenOptions): Promise<string>;
  /** Rewrites the policies file (for reloads). */
  writePolicies(text: string): void;
  /** The `access` option of createGateway. */
  access(overrides?: Partial<AccessConfig>): Partial<AccessConfig>;
  /** The same as gateway CLI flags. */
  cliArgs(): string[];
  remove(): void;
}

/** Creates the fixture in a fresh temporary folder. */
export async function makeAccessFixture(o: { members?: Member[]; policies?: string; budgets?: BudgetConfigInput; db?: string } = {}): Promise<AccessFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'accord-access-'));
  const members = o.members ?? TEST_MEMBERS;
  const membersFile = join(dir, 'members.json');
  const policiesFile = join(dir, 'policies.cedar');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(membersFile, JSON.stringify(members));
  writeFileSync(policiesFile, o.policies ?? ALLOW_ALL);
  const { privateJwk, publicJwk } = await generateEd25519();
  writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }));
  let budgetsFile: string | undefined;
  if (o.budgets) {
    budgetsFile = join(dir, 'budgets.json');
    writeFileSync(budgetsFile, JSON.stringify(o.budgets));
  }
  const db = o.db ?? join(dir, 'gateway.sqlite');
  const signingKey = join(dir, 'signing.jwk');
  const signingJwksOut = join(dir, 'grant-jwks.json');
  const fixture: AccessFixture = {
    dir,
    members,
    membersFile,
    policiesFile,
    ...(budgetsFile ? { budgetsFile } : {}),
    jwksFile,
    issuerKey: privateJwk,
    db,
    signingKey,
    signingJwksOut,
    async token(member, t = {}) {
      const jwk = t.key ?? privateJwk;
      const key = await importJWK(jwk, 'EdDSA');
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT(t.staff ? { roles: ['staff'] } : {})
        .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid })
        .setIssuer(t.issuer ?? DEV_ISSUER)
        .setAudience(t.audience ?? DEFAULT_AUDIENCE)
        .setSubject(member)
        .setIssuedAt(now - 5);
      if (!t.noExp) jwt.setExpirationTime(now + (t.expiresIn ?? 3600));
      return jwt.sign(key);
    },
    writePolicies(text) {
      writeFileSync(policiesFile, text);
    },
    access(overrides = {}) {
      return {
        dataDir: dir,
        jwksFile,
        members: membersFile,
        policies: policiesFile,
        ...(budgetsFile ? { budgets: budgetsFile } : {}),
        db,
        signingKey,
        signingJwksOut,
        ...overrides,
      };
    },
    cliArgs() {
      return [
        '--data-dir', dir,
        '--jwks-file', jwksFile,
        '--members', membersFile,
        '--policies', policiesFile,
        ...(budgetsFile ? ['--budgets', budgetsFile] : []),
        '--db', db,
        '--signing-key', signingKey,
        '--signing-jwks-out', signingJwksOut,
      ];
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
