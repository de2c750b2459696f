/** Synthetic federation generator (deterministic, seeded; not a privacy noise source). */
export { generateFederation, estimatedDisclosure } from './generate.js';
export type { FederationOptions, Federation, PlantedCampaign } from './generate.js';
export {
  DEMO_NODES,
  ALL_NODES,
  CERT_DE,
  CERT_FR,
  ISAC_ENERGY,
  CERT_SECTOR_WEIGHTS,
  ENERGY_ISAC_SECTOR_WEIGHTS,
  federationNodes,
} from './nodes.js';
export type { NodeSpec } from './nodes.js';
export { Rng, Weighted, hash32, hash128, zipfWeights } from './prng.js';
export { stixObjects, stixBundle, writeStixBundle, type StixBundleOptions } from './stix.js';
