/**
 * Limits of the contribution protocol that the gateway and every node must agree on. A request
 * within them is never refused by a node for its shape, so the gateway checks them before anything
 * is reserved or sent. The rules for keys themselves (CVE id syntax, longest key, the characters a
 * node-data key may hold) are in `keys.ts`; the indicator types in `indicator.ts`.
 */

/** At most this many group-by dimensions in one aggregate. */
export const MAX_DIMENSIONS = 4;
/** At most this many values in one filter list. */
export const MAX_FILTER_VALUES = 1000;
/** At most this many indicator hashes in `filter.indicators`. */
export const MAX_INDICATORS = 100;
