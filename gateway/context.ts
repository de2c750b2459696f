/**
 * The context of one analyst request, typed from the HTTP front (which authenticates the caller)
 * through Apollo's gateway and the fan-out data source to admission. Nothing downstream reads the
 * caller from an untyped object.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Member } from './members.js';

/** An authenticated caller. */
export interface Principal {
  member: Member;
  /** Platform staff: the registry grants the role and the token's `roles` claim asks for it. */
  staff: boolean;
}

/** The per-request context of the analyst API. */
export interface GatewayContext {
  /** Unique id of the HTTP request, for logs. */
  requestId: string;
  /** The request's headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** The authenticated caller. */
  principal: Principal;
}
