/**
 * Group keys that come from node data — CVE ids (EXPLOIT), tool and malware family names (TOOL),
 * actor names (ACTOR) — and the one rule every side applies to them: the importers store only
 * {@link normaliseKey}'s output, nodes therefore only ever emit keys {@link isContractKey} accepts,
 * and the gateway accepts exactly those. A key the rule refused at the gateway would fail the whole
 * contribution, a failure that depends on one organisation's data; keeping the three sides on one
 * definition is what rules that out.
 */

/** The dimensions whose keys come from node data (every other dimension's keys are public catalogs). */
export const NODE_KEY_DIMENSIONS = ['EXPLOIT', 'TOOL', 'ACTOR'] as const;
export type NodeKeyDimension = (typeof NODE_KEY_DIMENSIONS)[number];

/**
 * Longest key, in UTF-16 code units (JavaScript's and GraphQL's string length; never more code points
 * than that). Applies to every key and every filter value of the protocol.
 */
export const MAX_KEY_LENGTH = 200;

/** A CVE id as the protocol carries it: `CVE-`, a four-digit year, `-`, four to seven digits, upper case. */
export const CVE_ID = /^CVE-\d{4}-\d{4,7}$/;

/** Runs of white space (ECMAScript `\s`, which includes U+2028/U+2029) and control characters (Cc: U+0000–U+001F, U+007F–U+009F). */
// eslint-disable-next-line no-control-regex
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]+/g;
/** A UTF-16 surrogate without its partner. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function isNodeKeyDimension(d: string): d is NodeKeyDimension {
  return (NODE_KEY_DIMENSIONS as readonly string[]).includes(d);
}

/** Lone surrogates → U+FFFD, each run of white space and control characters → one space, trimmed. */
function collapse(raw: string): string {
  return raw.replace(LONE_SURROGATE, '\uFFFD').replace(SPACE_OR_CONTROL, ' ').trim();
}

/** `v` cut to {@link MAX_KEY_LENGTH} code units on a code-point boundary, trimmed at the end; unchanged when short enough. */
function cutToLimit(v: string): string {
  if (v.length <= MAX_KEY_LENGTH) return v;
  const last = v.charCodeAt(MAX_KEY_LENGTH - 1);
  return v.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_KEY_LENGTH - 1 : MAX_KEY_LENGTH).trimEnd();
}

/**
 * A name (TOOL or ACTOR key) in contract form, or undefined when nothing is left of it:
 * 1. every lone surrogate becomes U+FFFD (the string can then be stored and sent as UTF-8 unchanged);
 * 2. every run of white space and control characters becomes one space, and the result is trimmed;
 * 3. a result longer than {@link MAX_KEY_LENGTH} is cut to that length on a code-point boundary (a
 *    surrogate pair is never split) and trimmed again.
 * Idempotent: `normaliseName(normaliseName(x)) === normaliseName(x)`. Never throws.
 */
export function normaliseName(raw: string): string | undefined {
  const v = cutToLimit(collapse(raw));
  return v.length > 0 ? v : undefined;
}

/**
 * What {@link normaliseName} does to `raw`: the key (undefined when nothing is left), whether steps 1–2
 * changed more than surrounding white space (`changed`), and whether step 3 cut it (`cut`). Never throws.
 */
export function nameNormalisation(raw: string): { key: string | undefined; changed: boolean; cut: boolean } {
  const collapsed = collapse(raw);
  const key = normaliseName(raw);
  return { key, changed: collapsed !== raw.trim(), cut: collapsed.length > MAX_KEY_LENGTH };
}

/**
 * A CVE id in contract form (trimmed, upper case, matching {@link CVE_ID}), or undefined when it does
 * not fit — e.g. eight or more digits, which no CVE numbering authority has assigned. Never throws.
 */
export function normaliseCve(raw: string): string | undefined {
  const v = raw.trim().toUpperCase();
  return CVE_ID.test(v) ? v : undefined;
}

/**
 * `raw` as a key of the node-data dimension `dimension`: {@link normaliseCve} for EXPLOIT,
 * {@link normaliseName} for TOOL and ACTOR; undefined when the contract cannot carry it. Never throws.
 */
export function normaliseKey(dimension: NodeKeyDimension, raw: string): string | undefined {
  return dimension === 'EXPLOIT' ? normaliseCve(raw) : normaliseName(raw);
}

/**
 * True when `value` is a key of the node-data dimension `dimension` exactly as the contract carries
 * it, i.e. a fixed point of {@link normaliseKey}: for EXPLOIT a CVE id matching {@link CVE_ID}; for
 * TOOL and ACTOR a well-formed UTF-16 string of 1 to {@link MAX_KEY_LENGTH} code units without control
 * characters, without white space other than single spaces between other characters. False for any
 * other dimension and for non-strings. Never throws.
 */
export function isContractKey(dimension: string, value: unknown): boolean {
  return typeof value === 'string' && isNodeKeyDimension(dimension) && normaliseKey(dimension, value) === value;
}
