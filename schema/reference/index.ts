/** Public reference data: the public key domains Accord may release group keys from. */
export * from './countries.js';
export * from './sectors.js';
export * from './kev.js';
export * from './actors.js';
export { datasetReferenceProblems } from './validate.js';
