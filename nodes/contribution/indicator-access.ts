/**
 * Whether this node may answer an indicators filter. A filter carries hashes made under the
 * federation's indicator key; the node answers only when it has that key and the indicator hashes
 * it stores were made under it (or it stores none: then every filter matches nothing, truthfully).
 * Otherwise it refuses with INDICATORS_UNAVAILABLE rather than answer a misleading zero.
 */
import { AccordError } from '../../schema/errors.js';
import { indicatorKeyId, knexAccess, readStoredIndicatorKey, storedKeyId } from '../db/indicator-key.js';
import { dialectOf, knexOf, type NodeOrm } from '../db/orm.js';

/** How long a look at the stored key id is reused before it is read again. */
const RECHECK_MS = 5_000;

export interface IndicatorAccessOptions {
  orm: NodeOrm;
  /** The federation's indicator key, when configured. */
  indicatorKey?: string | Buffer;
  /** The node secret: the key of stores written before key ids were recorded. */
  nodeSecret?: string | Buffer;
  /** Clock in ms (tests). */
  now?: () => number;
}

function unavailable(reason: 'no-key' | 'key-mismatch', message: string): AccordError {
  return new AccordError('INDICATORS_UNAVAILABLE', message, { reason });
}

export class IndicatorAccess {
  private readonly keyId: string | undefined;
  private readonly now: () => number;
  /** Set once the stored hashes are known to be under the configured key; imports cannot change that. */
  private settled = false;
  private lastCheck: { at: number; outcome: 'answer' | 'key-mismatch' } | undefined;

  constructor(private readonly o: IndicatorAccessOptions) {
    this.keyId = o.indicatorKey !== undefined ? indicatorKeyId(o.indicatorKey) : undefined;
    this.now = o.now ?? Date.now;
  }

  /**
   * Resolves when an indicators filter may be answered. Throws AccordError('INDICATORS_UNAVAILABLE')
   * with `details.reason` `no-key` (no indicator key configured) or `key-mismatch` (the stored
   * indicator hashes were made under another key). Driver errors propagate.
   */
  async check(): Promise<void> {
    if (this.keyId === undefined) {
      throw unavailable('no-key', 'This node has no federation indicator key configured and cannot match indicator filters; its operator must set --indicator-key-file.');
    }
    if (this.settled) return;
    const t = this.now();
    if (this.lastCheck === undefined || t - this.lastCheck.at >= RECHECK_MS) this.lastCheck = { at: t, outcome: await this.look() };
    if (this.lastCheck.outcome === 'key-mismatch') {
      throw unavailable(
        'key-mismatch',
        "The indicators this node stores were hashed under another key than the federation's indicator key, so it cannot match indicator filters; its operator must re-import them with --indicator-key-file.",
      );
    }
  }

  private async look(): Promise<'answer' | 'key-mismatch'> {
    const { orm } = this.o;
    const stored = await readStoredIndicatorKey(knexAccess(knexOf(orm), dialectOf(orm)));
    if (!stored.hasIndicators) return 'answer';
    if (storedKeyId(stored, this.o.nodeSecret) === this.keyId) {
      this.settled = true;
      return 'answer';
    }
    return 'key-mismatch';
  }
}
