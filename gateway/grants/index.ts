export { grantHeaders, type GrantContext, type NodeHeaders } from './grant.js';
export { ensureSigningKey, GRANT_KEYS_PATH, GRANT_TTL_SECONDS, GrantSigner, publicJwks, type GrantInput } from './signer.js';
