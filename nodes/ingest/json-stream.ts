/**
 * Streaming split of a STIX bundle (or a TAXII 2.1 envelope) into its objects.
 *
 * The input `{ "type": "bundle", "id": …, "objects": [ {…}, {…}, … ] }` is read in chunks; each
 * element of `objects` is cut out as text (JSON.parse does the parsing, one object at a time) and every
 * other top-level member is parsed on its own. Memory stays bounded by the largest object, whatever the
 * size of the bundle. While scanning, the splitter enforces the limits (nesting depth, string length,
 * object size) and reports malformed or truncated JSON with its byte offset, line and column.
 *
 * Only JSON structure is tracked here (strings, escapes, brackets); the grammar of each object is left
 * to JSON.parse, whose errors are mapped back to positions in the input.
 */
import type { IngestLimits } from './limits.js';
import type { JsonPosition } from './errors.js';

export type JsonStreamProblem = 'syntax' | 'truncated' | 'depth' | 'string' | 'size' | 'shape';

/** A structural problem of the JSON input, with where it is. */
export class JsonStreamError extends Error {
  constructor(
    message: string,
    readonly problem: JsonStreamProblem,
    readonly position: JsonPosition,
    /** Index in `objects` of the element being read, or null outside it. */
    readonly index: number | null,
  ) {
    super(message);
    this.name = 'JsonStreamError';
  }
}

export interface SplitElement {
  /** Position in `objects` (0-based). */
  index: number;
  /** Where the element starts. */
  position: JsonPosition;
  /** The parsed element. */
  value: unknown;
}

const enum Mode {
  Start,
  KeyOrEnd,
  KeyRequired,
  InKey,
  Colon,
  Value,
  InTopValue,
  InTopScalar,
  TopCommaOrEnd,
  ArrayFirst,
  ArrayNext,
  InElement,
  ArrayCommaOrEnd,
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NL = 0x0a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Character index of the first JSON syntax error in `t` (strict RFC 8259), or -1 when there is none.
 * Used only after JSON.parse has failed, since V8 does not always report a position. Nesting is bounded
 * by the scanner's depth limit before this runs.
 */
export function jsonErrorOffset(t: string): number {
  let i = 0;
  const n = t.length;
  const ws = (): void => {
    while (i < n && (t[i] === ' ' || t[i] === '\t' || t[i] === '\n' || t[i] === '\r')) i++;
  };
  const str = (): void => {
    i++;
    while (i < n) {
      const c = t[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = t[i + 1];
        if (e === undefined || !'"\\/bfnrtu'.includes(e)) throw i;
        if (e === 'u' && !/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) throw i;
        i += e === 'u' ? 6 : 2;
        continue;
      }
      if (c < ' ') throw i;
      i++;
    }
    throw i;
  };
  const value = (): void => {
    ws();
    const c = t[i];
    if (c === '{') {
      i++;
      ws();
      if (t[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (t[i] !== '"') throw i;
        str();
        ws();
        if (t[i] !== ':') throw i;
        i++;
        value();
        ws();
        if (t[i] === ',') {
          i++;
          continue;
        }
        if (t[i] === '}') {
          i++;
          return;
        }
        throw i;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (t[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (t[i] === ',') {
          i++;
          continue;
        }
        if (t[i] === ']') {
          i++;
          return;
        }
        throw i;
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(t.slice(i, i + 400));
      if (!m) throw i;
      i += m[0].length;
      return;
    }
    for (const w of ['true', 'false', 'null']) {
      if (t.startsWith(w, i)) {
        i += w.length;
        return;
      }
    }
    throw i;
  };
  try {
    value();
    ws();
    if (i < n) throw i;
    return -1;
  } catch (e) {
    if (typeof e === 'number') return e;
    throw e;
  }
}

/** Where JSON.parse failed in `text`: V8's reported position, else our own scan. */
function parsePositionOf(e: unknown, text: string): number | undefined {
  const m = /position (\d+)/.exec(String((e as Error)?.message ?? ''));
  if (m) return Number(m[1]);
  const at = jsonErrorOffset(text);
  return at >= 0 ? at : undefined;
}

/** V8's reason without the echo of the input. */
function reasonOf(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .replace(/\s+in JSON at position \d+.*$/s, '')
    .replace(/, ".*" is not valid JSON$/s, '');
}

/** Splits one bundle; feed it with {@link write} and finish with {@link end}. */
export class BundleSplitter {
  /** Top-level members other than `objects`, parsed. */
  readonly members = new Map<string, unknown>();
  /** Bytes consumed so far. */
  get bytes(): number {
    return this.offset;
  }
  /** Whether the document had an `objects` member. */
  get hasObjects(): boolean {
    return this.sawObjects;
  }

  private mode = Mode.Start;
  private offset = 0;
  private chunkStart = 0;
  private line = 1;
  private lineStart = 0;
  private stack: number[] = [];
  private inString = false;
  private escape = false;
  private stringBytes = 0;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private captureFrom = -1;
  private captureStartPos: JsonPosition = { offset: 0, line: 1, column: 1 };
  private key: string | null = null;
  private index = 0;
  private sawObjects = false;
  private out: SplitElement[] = [];

  constructor(
    private readonly limits: IngestLimits,
    /** Called with each top-level member other than `objects` as soon as it is parsed (may throw). */
    private readonly onMember?: (key: string, value: unknown, position: JsonPosition) => void,
  ) {}

  private pos(i: number): JsonPosition {
    const offset = this.chunkStart + i;
    return { offset, line: this.line, column: offset - this.lineStart + 1 };
  }

  private fail(problem: JsonStreamProblem, message: string, i: number, inElement = this.mode === Mode.InElement): never {
    throw new JsonStreamError(message, problem, this.pos(i), inElement ? this.index : null);
  }

  private startCapture(i: number): void {
    this.parts = [];
    this.partsBytes = 0;
    this.captureFrom = i;
    this.captureStartPos = this.pos(i);
  }

  /** The captured bytes [captureFrom, end) as text; resets the capture. */
  private takeCapture(buf: Buffer, end: number): string {
    let text: string;
    if (this.parts.length === 0) {
      text = buf.toString('utf8', this.captureFrom, end);
    } else {
      this.parts.push(buf.subarray(0, end));
      text = Buffer.concat(this.parts).toString('utf8');
    }
    this.parts = [];
    this.partsBytes = 0;
    this.captureFrom = -1;
    return text;
  }

  /** JSON.parse with errors mapped to input positions. */
  private parseCaptured(text: string, start: JsonPosition, index: number | null): unknown {
    try {
      return JSON.parse(text);
    } catch (e) {
      const at = parsePositionOf(e, text);
      let position = start;
      if (at !== undefined) {
        const before = text.slice(0, at);
        const nl = before.lastIndexOf('\n');
        const lines = nl < 0 ? 0 : before.split('\n').length - 1;
        const byteOffset = start.offset + Buffer.byteLength(before, 'utf8');
        position = {
          offset: byteOffset,
          line: start.line + lines,
          column: nl < 0 ? start.column + Buffer.byteLength(before, 'utf8') : Buffer.byteLength(before.slice(nl + 1), 'utf8') + 1,
        };
      }
      throw new JsonStreamError(`is not valid JSON (${reasonOf(e)})`, 'syntax', position, index);
    }
  }

  /**
   * Scans a nested value (string, object or array) from `i`; returns the index just after it ends, or
   * -1 when the chunk ends first. `base` is the nesting depth of the value's container.
   */
  private scanNested(buf: Buffer, i: number, base: number): number {
    const n = buf.length;
    const maxString = this.limits.maxStringBytes;
    const maxDepth = this.limits.maxDepth;
    while (i < n) {
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          this.stringBytes++;
          i++;
          continue;
        }
        let j = i;
        let b = 0;
        while (j < n) {
          b = buf[j]!;
          if (b === QUOTE || b === BACKSLASH) break;
          j++;
        }
        this.stringBytes += j - i;
        if (this.stringBytes > maxString) {
          this.fail('string', `holds a string longer than the limit of ${maxString} bytes`, Math.min(j, n - 1));
        }
        if (j === n) return -1;
        if (b === BACKSLASH) {
          this.escape = true;
          this.stringBytes++;
          i = j + 1;
          continue;
        }
        this.inString = false;
        i = j + 1;
        if (this.stack.length === 0) return i;
        continue;
      }
      const b = buf[i]!;
      if (b === QUOTE) {
        this.inString = true;
        this.stringBytes = 0;
      } else if (b === LBRACE || b === LBRACKET) {
        this.stack.push(b);
        if (base + this.stack.length > maxDepth) this.fail('depth', `is nested deeper than the limit of ${maxDepth} levels`, i);
      } else if (b === RBRACE || b === RBRACKET) {
        const open = this.stack.pop();
        if (open === undefined || (b === RBRACE) !== (open === LBRACE)) {
          this.fail('syntax', `is not valid JSON (unexpected "${String.fromCharCode(b)}")`, i);
        }
        if (this.stack.length === 0) return i + 1;
      } else if (b === NL) {
        this.line++;
        this.lineStart = this.chunkStart + i + 1;
      }
      i++;
    }
    return -1;
  }

  private finishTopValue(buf: Buffer, end: number): void {
    const key = this.key!;
    const text = this.takeCapture(buf, end);
    const value = this.parseCaptured(text, this.captureStartPos, null);
    if (this.members.has(key)) this.fail('shape', `repeats the member "${key}"`, end - 1, false);
    this.members.set(key, value);
    this.onMember?.(key, value, this.captureStartPos);
    this.mode = Mode.TopCommaOrEnd;
  }

  /** Consumes one chunk; returns the objects completed in it, in order. Throws {@link JsonStreamError}. */
  write(buf: Buffer): SplitElement[] {
    this.out = [];
    this.chunkStart = this.offset;
    const n = buf.length;
    let i = 0;
    if (this.captureFrom >= 0) this.captureFrom = 0;
    while (i < n) {
      switch (this.mode) {
        case Mode.Start: {
          const b = buf[i]!;
          if (this.chunkStart + i === 0 && b === 0xef && buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
            i += 3;
            break;
          }
          if (isSpace(b)) {
            if (b === NL) {
              this.line++;
              this.lineStart = this.chunkStart + i + 1;
            }
            i++;
            break;
          }
          if (b !== LBRACE) this.fail('shape', 'is not a JSON object (a STIX bundle starts with "{")', i);
          this.mode = Mode.KeyOrEnd;
          i++;
          break;
        }
        case Mode.KeyOrEnd:
        case Mode.KeyRequired:
        case Mode.Colon:
        case Mode.Value:
        case Mode.TopCommaOrEnd:
        case Mode.ArrayFirst:
        case Mode.ArrayNext:
        case Mode.ArrayCommaOrEnd:
        case Mode.Done: {
          const b = buf[i]!;
          if (isSpace(b)) {
            if (b === NL) {
              this.line++;
              this.lineStart = this.chunkStart + i + 1;
            }
            i++;
            break;
          }
          i = this.structural(i, b);
          break;
        }
        case Mode.InKey: {
          const end = this.scanNested(buf, i, 1);
          if (end < 0) {
            i = n;
            break;
          }
          const text = this.takeCapture(buf, end);
          this.key = this.parseCaptured(text, this.captureStartPos, null) as string;
          this.mode = Mode.Colon;
          i = end;
          break;
        }
        case Mode.InTopValue: {
          const end = this.scanNested(buf, i, 1);
          if (end < 0) {
            i = n;
            break;
          }
          this.finishTopValue(buf, end);
          i = end;
          break;
        }
        case Mode.InTopScalar: {
          let j = i;
          while (j < n) {
            const b = buf[j]!;
            if (isSpace(b) || b === COMMA || b === RBRACE || b === RBRACKET) break;
            j++;
          }
          if (j === n) {
            i = n;
            break;
          }
          this.finishTopValue(buf, j);
          i = j;
          break;
        }
        case Mode.InElement: {
          const end = this.scanNested(buf, i, 2);
          if (end < 0) {
            i = n;
            break;
          }
          const start = this.captureStartPos;
          const text = this.takeCapture(buf, end);
          const value = this.parseCaptured(text, start, this.index);
          this.out.push({ index: this.index, position: start, value });
          this.index++;
          this.mode = Mode.ArrayCommaOrEnd;
          i = end;
          break;
        }
      }
    }
    if (this.captureFrom >= 0) {
      const piece = buf.subarray(this.captureFrom);
      this.partsBytes += piece.length;
      if (this.partsBytes > this.limits.maxObjectBytes) {
        this.fail('size', `is larger than the limit of ${this.limits.maxObjectBytes} bytes`, n - 1);
      }
      // Copy: the caller may reuse the chunk's memory.
      this.parts.push(Buffer.from(piece));
    }
    this.offset += n;
    return this.out;
  }

  /** One structural byte outside nested values; returns the next index. */
  private structural(i: number, b: number): number {
    switch (this.mode) {
      case Mode.KeyOrEnd:
      case Mode.KeyRequired:
        if (b === RBRACE && this.mode === Mode.KeyOrEnd) {
          this.mode = Mode.Done;
          return i + 1;
        }
        if (b !== QUOTE) this.fail('syntax', 'is not valid JSON (a member name was expected)', i);
        this.startCapture(i);
        this.inString = true;
        this.escape = false;
        this.stringBytes = 0;
        this.stack = [];
        this.mode = Mode.InKey;
        return i + 1;
      case Mode.Colon:
        if (b !== COLON) this.fail('syntax', 'is not valid JSON (":" was expected)', i);
        this.mode = Mode.Value;
        return i + 1;
      case Mode.Value:
        if (this.key === 'objects') {
          if (this.sawObjects) this.fail('shape', 'repeats the member "objects"', i);
          if (b !== LBRACKET) this.fail('shape', 'has an "objects" member that is not a list', i);
          this.sawObjects = true;
          this.mode = Mode.ArrayFirst;
          return i + 1;
        }
        this.startCapture(i);
        this.stack = [];
        this.inString = false;
        this.escape = false;
        if (b === QUOTE) {
          this.inString = true;
          this.stringBytes = 0;
          this.mode = Mode.InTopValue;
          return i + 1;
        }
        if (b === LBRACE || b === LBRACKET) {
          this.stack.push(b);
          this.mode = Mode.InTopValue;
          return i + 1;
        }
        this.mode = Mode.InTopScalar;
        return i;
      case Mode.TopCommaOrEnd:
        if (b === COMMA) {
          this.mode = Mode.KeyRequired;
          return i + 1;
        }
        if (b === RBRACE) {
          this.mode = Mode.Done;
          return i + 1;
        }
        return this.fail('syntax', 'is not valid JSON ("," or "}" was expected)', i);
      case Mode.ArrayFirst:
      case Mode.ArrayNext:
        if (b === RBRACKET && this.mode === Mode.ArrayFirst) {
          this.mode = Mode.TopCommaOrEnd;
          return i + 1;
        }
        if (b !== LBRACE) {
          this.mode = Mode.InElement;
          this.fail('shape', 'is not a JSON object (every element of "objects" must be one)', i, true);
        }
        this.startCapture(i);
        this.stack = [LBRACE];
        this.inString = false;
        this.escape = false;
        this.mode = Mode.InElement;
        return i + 1;
      case Mode.ArrayCommaOrEnd:
        if (b === COMMA) {
          this.mode = Mode.ArrayNext;
          return i + 1;
        }
        if (b === RBRACKET) {
          this.mode = Mode.TopCommaOrEnd;
          return i + 1;
        }
        return this.fail('syntax', 'is not valid JSON ("," or "]" was expected after an object)', i);
      case Mode.Done:
        return this.fail('syntax', 'has data after the end of the bundle', i);
      default:
        return this.fail('syntax', 'is not valid JSON', i);
    }
  }

  /** Checks that the input ended after a complete bundle. Throws {@link JsonStreamError} otherwise. */
  end(): void {
    if (this.mode === Mode.Done) return;
    const inElement = this.mode === Mode.InElement;
    const position = { offset: this.offset, line: this.line, column: this.offset - this.lineStart + 1 };
    const what = this.mode === Mode.Start ? 'is empty' : 'ends before the JSON is complete (truncated input)';
    throw new JsonStreamError(what, this.mode === Mode.Start ? 'shape' : 'truncated', position, inElement ? this.index : null);
  }
}

/**
 * Checks a whole JSON document against the limits (depth, string length) before it is parsed, and
 * parses it. Throws {@link JsonStreamError} with the position of the first violation.
 */
export function parseJsonDocument(buf: Buffer, limits: IngestLimits): unknown {
  const maxDepth = limits.maxDepth;
  const maxString = limits.maxStringBytes;
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  const n = buf.length;
  let i = 0;
  const fail = (problem: JsonStreamProblem, message: string, at: number): never => {
    throw new JsonStreamError(message, problem, { offset: at, line, column: at - lineStart + 1 }, null);
  };
  while (i < n) {
    const b = buf[i]!;
    if (b === QUOTE) {
      let j = i + 1;
      let len = 0;
      while (j < n) {
        const c = buf[j]!;
        if (c === BACKSLASH) {
          j += 2;
          len += 2;
          continue;
        }
        if (c === QUOTE) break;
        j++;
        len++;
      }
      if (len > maxString) fail('string', `holds a string longer than the limit of ${maxString} bytes`, i);
      i = j + 1;
      continue;
    }
    if (b === LBRACE || b === LBRACKET) {
      depth++;
      if (depth > maxDepth) fail('depth', `is nested deeper than the limit of ${maxDepth} levels`, i);
    } else if (b === RBRACE || b === RBRACKET) {
      depth--;
    } else if (b === NL) {
      line++;
      lineStart = i + 1;
    }
    i++;
  }
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = parsePositionOf(e, text);
    const before = at === undefined ? text : text.slice(0, at);
    const lines = before.split('\n');
    const offset = Buffer.byteLength(before, 'utf8');
    const reason = reasonOf(e);
    const truncated = at === undefined ? /end of (JSON )?input/i.test(reason) : at >= text.trimEnd().length;
    throw new JsonStreamError(
      truncated ? 'ends before the JSON is complete (truncated input)' : `is not valid JSON (${reason})`,
      truncated ? 'truncated' : 'syntax',
      { offset, line: lines.length, column: Buffer.byteLength(lines[lines.length - 1]!, 'utf8') + 1 },
      null,
    );
  }
}
