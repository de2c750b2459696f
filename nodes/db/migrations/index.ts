/**
 * The node's migrations, listed explicitly so they run the same from compiled `dist/` and under
 * vitest (no folder scanning). Append new migrations; never edit or reorder applied ones.
 */
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20250601000000_initial } from './Migration20250601000000_initial.js';
import { Migration20250610000000_ingest } from './Migration20250610000000_ingest.js';
import { Migration20250615000000_grants } from './Migration20250615000000_grants.js';
import { Migration20250620000000_settings } from './Migration20250620000000_settings.js';
import { Migration20250701000000_delta_femto } from './Migration20250701000000_delta_femto.js';
import { Migration20250801000000_contract_keys } from './Migration20250801000000_contract_keys.js';
import { Migration20261201000000_horizon } from './Migration20261201000000_horizon.js';

export const NODE_MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20250601000000_initial', class: Migration20250601000000_initial },
  { name: 'Migration20250610000000_ingest', class: Migration20250610000000_ingest },
  { name: 'Migration20250615000000_grants', class: Migration20250615000000_grants },
  { name: 'Migration20250620000000_settings', class: Migration20250620000000_settings },
  { name: 'Migration20250701000000_delta_femto', class: Migration20250701000000_delta_femto },
  { name: 'Migration20250801000000_contract_keys', class: Migration20250801000000_contract_keys },
  { name: 'Migration20261201000000_horizon', class: Migration20261201000000_horizon },
];
