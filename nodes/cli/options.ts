/**
 * Options the node server (`server.ts`) and the operator CLI (`commands.ts`) share: one definition
 * each, with its environment fallback and default, so both `--help` texts say the same.
 *
 * A default shown in angle brackets (`<data-dir>/<id>.sqlite`) is computed from the other options
 * when the configuration is resolved; such options hold null until given.
 */
import { Option } from 'commander';
import { NODE_DEFAULTS } from '../config.js';
import { DEFAULT_CONTRIBUTING_TLP } from '../contribution/tlp-gate.js';

/** An option with an environment fallback. */
export function envOption(flags: string, description: string, env: string): Option {
  return new Option(flags, description).env(env);
}

/** `--id`, `--db`, `--data-dir`, `--pg-schema`, `--secret`, `--indicator-key-file`: where a node's data and keys are. */
export function nodeStoreOptions(): Record<'id' | 'db' | 'dataDir' | 'pgSchema' | 'secret' | 'indicatorKeyFile', Option> {
  return {
    id: envOption('--id <id>', 'node id (required)', 'ACCORD_NODE_ID'),
    db: envOption('--db <db>', 'SQLite file or postgres:// URL', 'ACCORD_NODE_DB').default(null, '<data-dir>/<id>.sqlite'),
    dataDir: envOption('--data-dir <dir>', 'folder of the default database and secrets', 'ACCORD_NODE_DATA_DIR').default(NODE_DEFAULTS.dataDir),
    pgSchema: envOption('--pg-schema <name>', 'PostgreSQL schema of the node tables', 'ACCORD_NODE_PG_SCHEMA'),
    secret: envOption('--secret <secret>', 'node secret: key of pseudonyms, and of indicator hashes without an indicator key (generated once when absent, mode 0600)', 'ACCORD_NODE_SECRET').default(
      null,
      '<data-dir>/<id>.secret',
    ),
    indicatorKeyFile: envOption(
      '--indicator-key-file <file>',
      "the federation's indicator key, shared with the gateway: indicator values are hashed under it; without a file, env ACCORD_INDICATOR_KEY gives the key itself",
      'ACCORD_INDICATOR_KEY_FILE',
    ),
  };
}

/** `--contributing-tlp`: the TLP levels the node's TLP gate lets contribute. */
export function contributingTlpOption(): Option {
  return envOption('--contributing-tlp <list>', 'comma-separated TLP levels that may contribute (a subset of CLEAR,GREEN,AMBER)', 'ACCORD_NODE_CONTRIBUTING_TLP').default(DEFAULT_CONTRIBUTING_TLP.join(','));
}
