export * from './contribution.js';
export { canonicalSdl, sdlHash, contributionSdlHash } from './sdl-hash.js';
export * from './dataset.js';
export * from './calendar.js';
export * from './grant.js';
export * from './indicator.js';
export * from './limits.js';
export * from './keys.js';
