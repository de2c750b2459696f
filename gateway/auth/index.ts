export { Authenticator, TOKEN_ALGORITHMS, type AuthOptions, type Principal } from './authenticator.js';
export { DEFAULT_AUDIENCE, DEV_ISSUER, devIssuerFiles, ensureDevIssuer, generateEd25519, mintToken, type DevIssuerFiles, type MintOptions } from './dev-issuer.js';
