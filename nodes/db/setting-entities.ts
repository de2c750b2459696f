/**
 * Node-wide settings recorded in the database itself (not in configuration), created by
 * `migrations/Migration20250620000000_settings.ts`. One row per setting:
 *
 * - `indicator_key_id`: the id of the key the stored indicator hashes were made with
 *   (`indicator-key.ts`), so the node can tell whether they match the federation's indicator key.
 */
import { EntitySchema } from '@mikro-orm/core';

export interface NodeSetting {
  key: string;
  value: string;
}

export const NodeSettingSchema = new EntitySchema<NodeSetting>({
  name: 'NodeSetting',
  tableName: 'node_setting',
  properties: {
    key: { type: 'string', length: 64, primary: true },
    value: { type: 'string', length: 255 },
  },
});

/** The settings entities. */
export const SETTING_ENTITIES = [NodeSettingSchema] as const;
