/**
 * The refusals of the importers: one error per format, naming where the problem is.
 * STIX and MISP: `{ objectId, index, field }` (plus `offset`, `line`, `column` for JSON syntax);
 * CSV: `{ line, column }`. Messages speak about the operator's own input and end by saying that
 * nothing was stored.
 */
import { AccordError } from '../../schema/errors.js';

const MAX_SHOWN = 120;

/** A value cut to a printable length, for messages. */
export function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

export interface JsonPosition {
  /** Byte offset from the start of the input (0-based). */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column, in bytes. */
  column: number;
}

/**
 * AccordError('STIX_INVALID'): object `index` of the bundle (id `objectId` when known) has a problem
 * in `field`.
 */
export function stixInvalid(index: number | null, objectId: string | null, field: string | null, problem: string, position?: JsonPosition): AccordError {
  const where =
    index === null
      ? 'The bundle'
      : `STIX object ${index}${objectId ? ` (${shown(objectId)})` : ''}`;
  const at = position ? ` at line ${position.line}, column ${position.column} (byte ${position.offset})` : '';
  return new AccordError(
    'STIX_INVALID',
    `${where}${field ? `: field "${field}"` : ''} ${problem}${at}. Fix the input and import again; nothing of it was stored.`,
    { objectId, index, field, ...(position ?? {}) },
  );
}

/**
 * AccordError('MISP_INVALID') for event `index` of the document; `objectId` is the uuid of the event or
 * attribute at fault, `field` its path (e.g. `Event.Attribute[3].value`).
 */
export function mispInvalid(index: number | null, objectId: string | null, field: string | null, problem: string, position?: JsonPosition): AccordError {
  const where = index === null ? 'The MISP document' : `MISP event ${index}${objectId ? ` (${shown(objectId)})` : ''}`;
  const at = position ? ` at line ${position.line}, column ${position.column} (byte ${position.offset})` : '';
  return new AccordError(
    'MISP_INVALID',
    `${where}${field ? `: field "${field}"` : ''} ${problem}${at}. Fix the input and import again; nothing of it was stored.`,
    { objectId, index, field, ...(position ?? {}) },
  );
}

/** AccordError('CSV_INVALID') for `line` (1-based, the header is line 1) and `column` (header name or number). */
export function csvInvalid(line: number, column: string | number | null, problem: string): AccordError {
  return new AccordError(
    'CSV_INVALID',
    `CSV line ${line}${column !== null ? `, column "${column}"` : ''}: ${problem}. Fix the file and import again; nothing of it was stored.`,
    { line, column },
  );
}
