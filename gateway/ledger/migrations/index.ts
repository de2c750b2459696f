/**
 * The gateway's migrations, listed explicitly so they run the same from compiled `dist/` and under
 * vitest (no folder scanning). Append new migrations; never edit or reorder applied ones.
 */
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20250701000000_ledger } from './Migration20250701000000_ledger.js';
import { Migration20261201000000_horizon } from './Migration20261201000000_horizon.js';

export const GATEWAY_MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20250701000000_ledger', class: Migration20250701000000_ledger },
  { name: 'Migration20261201000000_horizon', class: Migration20261201000000_horizon },
];
