/** Node storage: opening/migrating the database, seeding datasets, operator statistics. */
export { openNodeOrm, dialectOf, knexOf, isPostgresUrl, type NodeOrm, type Dialect, type DatabaseOptions } from './orm.js';
export { seedDataset, type SeedOptions, type SeedSummary } from './seed.js';
export { nodeStats, type NodeStats } from './stats.js';
export { m49RegionLookup, type RegionLookup, type CountryRegion } from './regions.js';
export { normaliseIndicator, indicatorHash } from './indicators.js';
export { indicatorKeyId } from './indicator-key.js';
export { NODE_ENTITIES } from './entities.js';
export { NODE_MIGRATIONS } from './migrations/index.js';
