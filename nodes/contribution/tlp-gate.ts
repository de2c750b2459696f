/**
 * The node's TLP gate: which TLP levels of incident data may contribute to federated aggregates.
 * The operator chooses a subset of {@link DEFAULT_CONTRIBUTING_TLP}; {@link NEVER_CONTRIBUTING_TLP}
 * never contributes, whatever the configuration (the contribution statement excludes it too).
 * Pure: no database, so the oracle and the configuration can use it.
 */
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { AccordError } from '../../schema/errors.js';

/** TLP levels a node contributes unless its operator says otherwise. */
export const DEFAULT_CONTRIBUTING_TLP: readonly TlpLevel[] = ['CLEAR', 'GREEN', 'AMBER'];
/** TLP levels that never contribute, whatever the configuration. */
export const NEVER_CONTRIBUTING_TLP: readonly TlpLevel[] = ['AMBER+STRICT', 'RED'];

/**
 * Checks a node's contributing TLP levels and returns them without duplicates. Throws
 * AccordError('CONFIG_INVALID') when it names an unknown level or AMBER+STRICT / RED.
 */
export function checkContributingTlp(levels: readonly string[]): readonly TlpLevel[] {
  for (const l of levels) {
    if (!DEFAULT_CONTRIBUTING_TLP.includes(l as TlpLevel)) {
      throw new AccordError('CONFIG_INVALID', 'contributingTlp may list only CLEAR, GREEN and AMBER; AMBER+STRICT and RED never contribute.', { field: 'contributingTlp' });
    }
  }
  return [...new Set(levels)] as TlpLevel[];
}
