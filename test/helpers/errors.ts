import { AccordError } from '../../schema/errors.js';

/** What `f` throws, or `undefined` when it returns. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The AccordError code `f` throws, `undefined` when it does not throw, or a marker for other errors. */
export function codeOf(f: () => unknown): string | undefined {
  const e = thrown(f);
  if (e === undefined) return undefined;
  return e instanceof AccordError ? e.code : `not an AccordError: ${String(e)}`;
}
