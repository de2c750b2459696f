import { AccordError } from '../../schema/errors.js';

/** The AccordError code `f` throws, `undefined` when it does not throw, or a marker for other errors. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof AccordError ? e.code : `not an AccordError: ${String(e)}`;
  }
  return undefined;
}
