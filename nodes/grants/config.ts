/**
 * The node's grant settings: where the gateway's keys come from, whom it trusts as issuer, the
 * operator's sharing rules file and ledger caps, and the explicit insecure switch.
 */
import { AccordError } from '../../schema/errors.js';
import { MAX_RHO as MAX_CAP_RHO } from '../../schema/privacy/units.js';

/** Default issuer of grants. */
export const DEFAULT_GATEWAY_ISSUER = 'accord-gateway';
/** Default ρ cap per member over the horizon. */
export const DEFAULT_MEMBER_CAP_RHO = 1;
/** Default privacy horizon of the node's own ledger, in days (the gateway's default too). */
export const DEFAULT_HORIZON_DAYS = 365;

export type GrantMode = 'required' | 'disabled';

/** Grant-related fields of NodeConfig (all optional). */
export interface GrantConfigInput {
  /** The gateway's public keys: a JWKS file path or an http(s) JWKS URL. Without it (and without `grants: "disabled"`) the node refuses every contribution. */
  gatewayJwks?: string;
  /** Accepted `iss` of grants (default `accord-gateway`). */
  gatewayIssuer?: string;
  /** `required` (default) or `disabled`: answer without any grant check (insecure, logged loudly). */
  grants?: GrantMode;
  /** The operator's sharing rules file (JSON; see nodes/README.md). */
  sharingRules?: string;
  /** ρ cap per member over the horizon (default 1); the rules file may override it per member. */
  memberCapRho?: number;
  /** ρ cap for the whole node over the horizon (default: none). */
  nodeCapRho?: number;
  /** The privacy horizon in days: caps apply to the charges of this trailing window (default 365). */
  horizonDays?: number;
}

export interface ResolvedGrantConfig {
  /** `required`: every contribution needs a valid grant; `disabled`: no checks at all (insecure). */
  mode: GrantMode;
  /** JWKS file path or http(s) URL; absent means no request can be admitted (unless disabled). */
  gatewayJwks?: string;
  issuer: string;
  sharingRulesFile?: string;
  memberCapRho: number;
  nodeCapRho?: number;
  horizonDays: number;
}

function invalid(field: string, message: string): AccordError {
  return new AccordError('CONFIG_INVALID', message, { field });
}

function cap(field: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_CAP_RHO) throw invalid(field, `${field} must be a number of ρ from 0 to ${MAX_CAP_RHO}.`);
  return v;
}

/** A horizon: a whole number of days ≥ 1 (default 365). Throws CONFIG_INVALID. */
function horizon(v: number | undefined): number {
  if (v === undefined) return DEFAULT_HORIZON_DAYS;
  if (!Number.isInteger(v) || v < 1) throw invalid('horizonDays', 'horizonDays must be a whole number of days, at least 1.');
  return v;
}

/** Applies defaults and checks values. Throws AccordError('CONFIG_INVALID') naming the field. */
export function resolveGrantConfig(c: GrantConfigInput): ResolvedGrantConfig {
  const mode = c.grants ?? 'required';
  if (mode !== 'required' && mode !== 'disabled') throw invalid('grants', 'grants must be "required" or "disabled".');
  if (c.gatewayJwks !== undefined && (typeof c.gatewayJwks !== 'string' || c.gatewayJwks.trim() === '')) throw invalid('gatewayJwks', 'gatewayJwks must name a JWKS file or an http(s) URL.');
  if (mode === 'disabled' && c.gatewayJwks !== undefined) throw invalid('grants', 'Grants cannot be both disabled and verified with gateway keys; drop --insecure-no-grants or --gateway-jwks.');
  const issuer = c.gatewayIssuer ?? DEFAULT_GATEWAY_ISSUER;
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 255) throw invalid('gatewayIssuer', 'gatewayIssuer must be a non-empty string.');
  return {
    mode,
    ...(c.gatewayJwks !== undefined ? { gatewayJwks: c.gatewayJwks.trim() } : {}),
    issuer,
    ...(c.sharingRules !== undefined ? { sharingRulesFile: c.sharingRules } : {}),
    memberCapRho: cap('memberCapRho', c.memberCapRho) ?? DEFAULT_MEMBER_CAP_RHO,
    ...(c.nodeCapRho !== undefined ? { nodeCapRho: cap('nodeCapRho', c.nodeCapRho) } : {}),
    horizonDays: horizon(c.horizonDays),
  };
}
