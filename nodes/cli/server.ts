/**
 * The node server's command line (`nodes/main.ts`): every flag with its environment fallback and
 * default, as `--help` prints them. Building the program starts nothing.
 * Defaults in angle brackets are computed when the node starts (see `options.ts`).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { NODE_DEFAULTS } from '../config.js';
import { DEFAULT_GATEWAY_ISSUER, DEFAULT_HORIZON_DAYS, DEFAULT_MEMBER_CAP_RHO } from '../grants/config.js';
import { contributingTlpOption, envOption, nodeStoreOptions } from './options.js';

/** The parsed flags of {@link nodeServerProgram}. */
export interface NodeServerOptions {
  id?: string;
  host: string;
  port: number;
  operatorHost: string;
  operatorPort: number;
  db: string | null;
  pgSchema?: string;
  operatorToken: string | null;
  secret: string | null;
  indicatorKeyFile?: string;
  dataDir: string;
  seedFile?: string;
  contributingTlp: string;
  logLevel: string;
  gatewayJwks?: string;
  gatewayIssuer: string;
  sharingRules?: string;
  memberCapRho: number;
  nodeCapRho?: number;
  privacyHorizonDays: number;
  insecureNoGrants: boolean;
}

function rho(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

function days(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of days, at least 1');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}

/** The node server's program, unparsed. */
export function nodeServerProgram(): Command {
  const store = nodeStoreOptions();
  return new Command()
    .name('accord-node-server')
    .description('Run an Accord node over local incident data.')
    .addOption(store.id)
    .addOption(envOption('--host <host>', 'federated endpoint interface', 'ACCORD_NODE_HOST').default(NODE_DEFAULTS.host))
    .addOption(envOption('--port <n>', 'federated endpoint port (0 = any free port)', 'ACCORD_NODE_PORT').argParser(port).default(NODE_DEFAULTS.port))
    .addOption(envOption('--operator-host <host>', 'operator API interface', 'ACCORD_NODE_OPERATOR_HOST').default(NODE_DEFAULTS.host))
    .addOption(envOption('--operator-port <n>', 'operator API port (0 = any free port)', 'ACCORD_NODE_OPERATOR_PORT').argParser(port).default(NODE_DEFAULTS.port))
    .addOption(store.db)
    .addOption(store.pgSchema)
    .addOption(envOption('--operator-token <token>', 'operator API bearer token (generated once when absent, mode 0600)', 'ACCORD_NODE_OPERATOR_TOKEN').default(null, '<data-dir>/<id>.operator-token'))
    .addOption(store.secret)
    .addOption(store.indicatorKeyFile)
    .addOption(store.dataDir)
    .addOption(envOption('--seed-file <file>', 'NodeDataset JSON seeded once into an empty database', 'ACCORD_NODE_SEED_FILE'))
    .addOption(contributingTlpOption())
    .addOption(envOption('--log-level <level>', 'pino log level', 'ACCORD_LOG_LEVEL').default(NODE_DEFAULTS.logLevel))
    .addOption(envOption('--gateway-jwks <file|url>', 'gateway public keys: JWKS file or http(s) URL; without them every contribution is refused with GRANT_INVALID', 'ACCORD_NODE_GATEWAY_JWKS'))
    .addOption(envOption('--gateway-issuer <iss>', 'accepted grant issuer', 'ACCORD_NODE_GATEWAY_ISSUER').default(DEFAULT_GATEWAY_ISSUER))
    .addOption(envOption('--sharing-rules <file>', "the operator's sharing rules: which members may ask about which sectors (JSON, see nodes/README.md)", 'ACCORD_NODE_SHARING_RULES'))
    .addOption(envOption('--member-cap-rho <rho>', 'ρ cap per member over the privacy horizon', 'ACCORD_NODE_MEMBER_CAP_RHO').argParser(rho).default(DEFAULT_MEMBER_CAP_RHO))
    .addOption(envOption('--node-cap-rho <rho>', 'ρ cap for the whole node over the privacy horizon', 'ACCORD_NODE_NODE_CAP_RHO').argParser(rho))
    .addOption(
      envOption('--privacy-horizon-days <days>', "privacy horizon of the node's own ledger: its caps apply to the charges of this trailing window", 'ACCORD_NODE_PRIVACY_HORIZON_DAYS')
        .argParser(days)
        .default(DEFAULT_HORIZON_DAYS),
    )
    .addOption(new Option('--insecure-no-grants', 'INSECURE, development only: answer contribution requests without any grant check (no environment fallback)').default(false))
    .showHelpAfterError();
}
