/**
 * The gateway's command line: every flag with its environment fallback and default, as `--help`
 * prints them. Building the program starts nothing; `main.ts` parses it and starts the gateway.
 *
 * A default shown in angle brackets (`<data-dir>/members.json`) is computed when the gateway
 * starts; such options hold null until given.
 */
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG, QUORUM_MODES, REQUEST_RHO_QUESTIONS, defaultAccess } from './config.js';
import { DEFAULT_BUDGETS } from './ledger/budgets.js';

const { privacy } = DEFAULT_CONFIG;
const access = defaultAccess();

/** The `accord-gateway` program, unparsed. */
export function gatewayProgram(): Command {
  const option = (flags: string, description: string, env?: string): Option => {
    const o = new Option(flags, description);
    return env ? o.env(env) : o;
  };
  return new Command()
    .name('accord-gateway')
    .description('Accord federated gateway: noised cross-border aggregates over member nodes.')
    .addOption(option('--port <n>', 'TCP port (0 = any free port)', 'ACCORD_PORT').default(DEFAULT_CONFIG.port))
    .addOption(option('--host <host>', 'interface to bind', 'ACCORD_HOST').default(DEFAULT_CONFIG.host))
    .addOption(option('--nodes <file>', 'JSON file listing the member nodes [{ id, name, kind, url }]', 'ACCORD_NODES_FILE').default(null, 'no members'))
    .addOption(option('--rho <rho>', 'ρ (zCDP) per query', 'ACCORD_RHO').default(privacy.rho))
    .addOption(option('--delta <delta>', 'δ for the (ε, δ) statement', 'ACCORD_DELTA').default(privacy.delta, privacy.delta.toExponential()))
    .addOption(option('--privacy-horizon-days <days>', 'privacy horizon: every budget cap applies to the charges of this trailing window', 'ACCORD_PRIVACY_HORIZON_DAYS').default(privacy.horizonDays))
    .addOption(
      option('--organisation-multiplicity <k>', 'K: the most nodes one organisation may be reported to (scales sensitivities; K > 1 adds the federation-wide ledgers)', 'ACCORD_ORGANISATION_MULTIPLICITY').default(privacy.multiplicity),
    )
    .addOption(option('--quorum <mode>', 'default quorum', 'ACCORD_QUORUM').choices(QUORUM_MODES as string[]).default(DEFAULT_CONFIG.quorum))
    .addOption(option('--node-timeout-ms <ms>', 'per-node deadline', 'ACCORD_NODE_TIMEOUT_MS').default(DEFAULT_CONFIG.nodeTimeoutMs))
    .addOption(option('--max-cells <n>', 'largest number of cells an answer may release').default(DEFAULT_CONFIG.maxCells))
    .addOption(option('--data-start <YYYY-MM-DD>', 'first day of the federation data: question windows are clamped to it and today', 'ACCORD_DATA_START').default(DEFAULT_CONFIG.dataStart))
    .addOption(option('--max-partitions <n>', 'L0 contribution bound per organisation').default(privacy.maxPartitions))
    .addOption(option('--max-per-partition <n>', 'L∞ contribution bound per organisation and cell (ORGANISATIONS uses 1)').default(privacy.maxPerPartition))
    .addOption(option('--refresh-ms <ms>', 'node SDL re-check interval (0 = off)').default(DEFAULT_CONFIG.refreshIntervalMs))
    .addOption(option('--circuit-cooldown-ms <ms>', 'first cooldown of a failed node before it is probed again (doubles per failure, up to 60 s)', 'ACCORD_CIRCUIT_COOLDOWN_MS').default(DEFAULT_CONFIG.circuitCooldownMs))
    .addOption(option('--max-request-rho <rho>', 'largest ρ one request may reserve over all its questions', 'ACCORD_MAX_REQUEST_RHO').default(null, `${REQUEST_RHO_QUESTIONS} × --rho`))
    .addOption(option('--log-level <level>', 'pino level', 'ACCORD_LOG_LEVEL').default(DEFAULT_CONFIG.logLevel))
    .addOption(option('--data-dir <dir>', 'folder of the embedded defaults (keys, database, members, policies)', 'ACCORD_DATA_DIR').default('./data'))
    .addOption(option('--members <file>', 'members file', 'ACCORD_MEMBERS_FILE').default(null, '<data-dir>/members.json'))
    .addOption(option('--policies <file>', 'Cedar access policies', 'ACCORD_POLICIES_FILE').default(null, '<data-dir>/policies.cedar'))
    .addOption(option('--budgets <file>', 'budgets file: node caps, member allocations, federation cap', 'ACCORD_BUDGETS_FILE').default(null, `built-in: node cap ρ ${DEFAULT_BUDGETS.nodeCap.rho}, allocation ρ ${DEFAULT_BUDGETS.allocation.rho}, federation cap ρ ${DEFAULT_BUDGETS.federationCap.rho} over the horizon`))
    .addOption(option('--jwks-file <file>', 'member-token keys, a local JWKS', 'ACCORD_JWKS_FILE').default(null, '<data-dir>/dev-jwks.json unless --jwks-url'))
    .addOption(option('--jwks-url <url>', 'member-token keys, a JWKS URL (instead of --jwks-file)', 'ACCORD_JWKS_URL'))
    .addOption(option('--token-issuer <iss>', 'required iss of member tokens', 'ACCORD_TOKEN_ISSUER').default(access.tokenIssuer))
    .addOption(option('--max-token-lifetime-sec <s>', 'longest a member token may still be valid for; longer-lived tokens are refused', 'ACCORD_MAX_TOKEN_LIFETIME_SEC').default(access.maxTokenLifetimeSec))
    .addOption(option('--token-audience <aud>', 'required aud of member tokens', 'ACCORD_TOKEN_AUDIENCE').default(access.tokenAudience))
    .addOption(option('--db <db>', 'ledger database: SQLite file or postgres:// URL', 'ACCORD_DB').default(null, '<data-dir>/gateway.sqlite'))
    .addOption(option('--pg-schema <name>', 'PostgreSQL schema for the gateway tables', 'ACCORD_PG_SCHEMA'))
    .addOption(option('--signing-key <file>', 'grant signing key, Ed25519 private JWK (generated when absent, mode 0600)').default(null, '<data-dir>/gateway-signing.jwk'))
    .addOption(option('--signing-jwks-out <file>', 'write the public grant keys (JWKS) here for node operators').default(null, '<data-dir>/gateway.jwks.json'))
    .addOption(option('--gateway-id <id>', 'iss of the grants this gateway signs').default(access.gatewayId))
    .addOption(
      option(
        '--indicator-key-file <file>',
        'the federation indicator key shared with the nodes (indicatorPrevalence); without a file, env ACCORD_INDICATOR_KEY gives the key itself',
        'ACCORD_INDICATOR_KEY_FILE',
      ),
    );
}
