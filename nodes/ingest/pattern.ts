/**
 * STIX 2.1 patterning (STIX 2.1 §9): a parser that accepts exactly the pattern grammar, and the
 * extraction of indicator values from patterns that are plain equality tests.
 *
 * Grammar (precedence low → high):
 *   pattern      := obsFollowed EOF
 *   obsFollowed  := obsOr ("FOLLOWEDBY" obsOr)*
 *   obsOr        := obsAnd ("OR" obsAnd)*
 *   obsAnd       := obsExpr ("AND" obsExpr)*
 *   obsExpr      := ("[" compOr "]" | "(" obsFollowed ")") qualifier*
 *   qualifier    := "START" t'…' "STOP" t'…' | "WITHIN" number "SECONDS" | "REPEATS" int "TIMES"
 *   compOr       := compAnd ("OR" compAnd)*
 *   compAnd      := propTest ("AND" propTest)*
 *   propTest     := "(" compOr ")" | "EXISTS" path
 *                 | path "NOT"? (op literal | "IN" set | ("LIKE" | "MATCHES" | "ISSUBSET" | "ISSUPERSET") string)
 *   op           := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
 *   path         := objectType ":" step ("." step | "[" (int | "*") "]")*
 * Literals: 'strings' (escapes \' and \\ only), integers, floats, true/false, t'timestamp', h'hex', b'base64'.
 */
import { isIP } from 'node:net';
import { parseTimestamp } from './timestamp.js';

/** A pattern that does not follow STIX patterning; `offset` is the character where parsing stopped. */
export class PatternError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PatternError';
  }
}

type TokKind = 'punct' | 'op' | 'kw' | 'ident' | 'string' | 'ts' | 'hex' | 'bin' | 'int' | 'float' | 'bool' | 'eof';

interface Token {
  kind: TokKind;
  text: string;
  /** Decoded value of string-like literals. */
  value?: string;
  at: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS', 'IN', 'START', 'STOP', 'WITHIN', 'SECONDS', 'REPEATS', 'TIMES']);

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  const quoted = (start: number, prefixLen: number): { value: string; end: number } => {
    let j = start + prefixLen + 1;
    let value = '';
    while (j < n) {
      const c = src[j]!;
      if (c === '\\') {
        const next = src[j + 1];
        if (next !== "'" && next !== '\\') throw new PatternError(`invalid escape "\\${next ?? ''}" in a string literal`, j);
        value += next;
        j += 2;
        continue;
      }
      if (c === "'") return { value, end: j + 1 };
      value += c;
      j++;
    }
    throw new PatternError('unterminated string literal', start);
  };
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if ('[]():,.*'.includes(c)) {
      out.push({ kind: 'punct', text: c, at: i });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      out.push({ kind: 'op', text: two, at: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ kind: 'op', text: c, at: i });
      i++;
      continue;
    }
    if (c === "'") {
      const q = quoted(i, 0);
      out.push({ kind: 'string', text: src.slice(i, q.end), value: q.value, at: i });
      i = q.end;
      continue;
    }
    if ((c === 't' || c === 'h' || c === 'b') && src[i + 1] === "'") {
      const q = quoted(i, 1);
      const kind: TokKind = c === 't' ? 'ts' : c === 'h' ? 'hex' : 'bin';
      out.push({ kind, text: src.slice(i, q.end), value: q.value, at: i });
      i = q.end;
      continue;
    }
    const num = /^[-+]?(\d+)(\.\d+)?([eE][-+]?\d+)?/.exec(src.slice(i, i + 64));
    if (num && (/[0-9]/.test(c) || ((c === '-' || c === '+') && /[0-9]/.test(src[i + 1] ?? '')))) {
      out.push({ kind: num[2] || num[3] ? 'float' : 'int', text: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i, i + 256));
    if (id) {
      const w = id[0];
      const kind: TokKind = KEYWORDS.has(w) ? 'kw' : w === 'true' || w === 'false' ? 'bool' : 'ident';
      out.push({ kind, text: w, at: i });
      i += w.length;
      continue;
    }
    throw new PatternError(`unexpected character "${c}"`, i);
  }
  out.push({ kind: 'eof', text: '', at: n });
  return out;
}

export interface ObjectPath {
  objectType: string;
  /** Property steps; numbers are list indexes, `*` any index. */
  steps: (string | number)[];
}

type Literal = { kind: TokKind; value: string };

export type CompNode =
  | { kind: 'test'; path: ObjectPath; op: string; negated: boolean; literal: Literal | null }
  | { kind: 'exists'; path: ObjectPath }
  | { kind: 'and' | 'or'; left: CompNode; right: CompNode };

export type ObsNode =
  | { kind: 'obs'; comp: CompNode; qualified: boolean }
  | { kind: 'group'; inner: ObsNode; qualified: boolean }
  | { kind: 'AND' | 'OR' | 'FOLLOWEDBY'; left: ObsNode; right: ObsNode };

class Parser {
  private p = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.p]!;
  }
  private next(): Token {
    return this.toks[this.p++]!;
  }
  private is(kind: TokKind, text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || t.text === text);
  }
  private expect(kind: TokKind, text: string | undefined, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind || (text !== undefined && t.text !== text)) {
      throw new PatternError(`${what} expected${t.kind === 'eof' ? ' at the end' : ` near "${t.text}"`}`, t.at);
    }
    return this.next();
  }

  pattern(): ObsNode {
    const node = this.obsFollowed();
    if (!this.is('eof')) throw new PatternError(`unexpected "${this.peek().text}"`, this.peek().at);
    return node;
  }

  private obsFollowed(): ObsNode {
    let left = this.obsOr();
    while (this.is('kw', 'FOLLOWEDBY')) {
      this.next();
      left = { kind: 'FOLLOWEDBY', left, right: this.obsOr() };
    }
    return left;
  }
  private obsOr(): ObsNode {
    let left = this.obsAnd();
    while (this.is('kw', 'OR')) {
      this.next();
      left = { kind: 'OR', left, right: this.obsAnd() };
    }
    return left;
  }
  private obsAnd(): ObsNode {
    let left = this.obsExpr();
    while (this.is('kw', 'AND')) {
      this.next();
      left = { kind: 'AND', left, right: this.obsExpr() };
    }
    return left;
  }
  private obsExpr(): ObsNode {
    let node: ObsNode;
    if (this.is('punct', '[')) {
      this.next();
      const comp = this.compOr();
      this.expect('punct', ']', '"]"');
      node = { kind: 'obs', comp, qualified: false };
    } else if (this.is('punct', '(')) {
      this.next();
      const inner = this.obsFollowed();
      this.expect('punct', ')', '")"');
      node = { kind: 'group', inner, qualified: false };
    } else {
      const t = this.peek();
      throw new PatternError(`an observation expression ("[" …) expected${t.kind === 'eof' ? ' at the end' : ` near "${t.text}"`}`, t.at);
    }
    while (this.is('kw', 'START') || this.is('kw', 'WITHIN') || this.is('kw', 'REPEATS')) {
      const q = this.next();
      if (q.text === 'START') {
        this.timestamp();
        this.expect('kw', 'STOP', '"STOP"');
        this.timestamp();
      } else if (q.text === 'WITHIN') {
        const t = this.peek();
        if (t.kind !== 'int' && t.kind !== 'float') throw new PatternError('a number of seconds expected after WITHIN', t.at);
        if (!(Number(t.text) > 0)) throw new PatternError('WITHIN needs a positive number of seconds', t.at);
        this.next();
        this.expect('kw', 'SECONDS', '"SECONDS"');
      } else {
        const t = this.expect('int', undefined, 'an integer after REPEATS');
        if (!(Number(t.text) > 0)) throw new PatternError('REPEATS needs a positive integer', t.at);
        this.expect('kw', 'TIMES', '"TIMES"');
      }
      node = { ...node, qualified: true } as ObsNode;
    }
    return node;
  }
  private timestamp(): void {
    const t = this.expect('ts', undefined, "a timestamp literal t'…'");
    if (!parseTimestamp(t.value)) throw new PatternError(`"${t.text}" is not a valid timestamp`, t.at);
  }

  private compOr(): CompNode {
    let left = this.compAnd();
    while (this.is('kw', 'OR')) {
      this.next();
      left = { kind: 'or', left, right: this.compAnd() };
    }
    return left;
  }
  private compAnd(): CompNode {
    let left = this.propTest();
    while (this.is('kw', 'AND')) {
      this.next();
      left = { kind: 'and', left, right: this.propTest() };
    }
    return left;
  }
  private propTest(): CompNode {
    if (this.is('punct', '(')) {
      this.next();
      const inner = this.compOr();
      this.expect('punct', ')', '")"');
      return inner;
    }
    if (this.is('kw', 'EXISTS')) {
      this.next();
      return { kind: 'exists', path: this.path() };
    }
    const path = this.path();
    let negated = false;
    if (this.is('kw', 'NOT')) {
      this.next();
      negated = true;
    }
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      return { kind: 'test', path, op: t.text === '==' ? '=' : t.text === '<>' ? '!=' : t.text, negated, literal: this.literal() };
    }
    if (t.kind === 'kw' && t.text === 'IN') {
      this.next();
      this.expect('punct', '(', '"(" opening a set');
      this.literal();
      while (this.is('punct', ',')) {
        this.next();
        this.literal();
      }
      this.expect('punct', ')', '")" closing a set');
      return { kind: 'test', path, op: 'IN', negated, literal: null };
    }
    if (t.kind === 'kw' && ['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'].includes(t.text)) {
      this.next();
      const s = this.expect('string', undefined, `a string after ${t.text}`);
      if (t.text === 'MATCHES') {
        try {
          new RegExp(s.value!);
        } catch {
          throw new PatternError('MATCHES needs a valid regular expression', s.at);
        }
      }
      return { kind: 'test', path, op: t.text, negated, literal: { kind: 'string', value: s.value! } };
    }
    throw new PatternError(`a comparison operator expected${t.kind === 'eof' ? ' at the end' : ` near "${t.text}"`}`, t.at);
  }
  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
      case 'hex':
      case 'bin':
        if (t.kind === 'hex' && !/^([0-9a-fA-F]{2})*$/.test(t.value!)) throw new PatternError('invalid hex literal', t.at);
        if (t.kind === 'bin' && !/^[A-Za-z0-9+/]*={0,2}$/.test(t.value!)) throw new PatternError('invalid base64 literal', t.at);
        return { kind: t.kind, value: t.value! };
      case 'ts':
        if (!parseTimestamp(t.value)) throw new PatternError(`"${t.text}" is not a valid timestamp`, t.at);
        return { kind: t.kind, value: t.value! };
      case 'int':
      case 'float':
      case 'bool':
        return { kind: t.kind, value: t.text };
      default:
        throw new PatternError(`a literal expected${t.kind === 'eof' ? ' at the end' : ` near "${t.text}"`}`, t.at);
    }
  }
  private path(): ObjectPath {
    const typeTok = this.expect('ident', undefined, 'an object path (type:property)');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(typeTok.text)) throw new PatternError(`"${typeTok.text}" is not an object type`, typeTok.at);
    this.expect('punct', ':', '":" after the object type');
    const steps: (string | number)[] = [this.step()];
    for (;;) {
      if (this.is('punct', '.')) {
        this.next();
        steps.push(this.step());
      } else if (this.is('punct', '[')) {
        this.next();
        const t = this.next();
        if (t.kind === 'int') steps.push(Number(t.text));
        else if (t.kind === 'punct' && t.text === '*') steps.push('*');
        else throw new PatternError('a list index or "*" expected', t.at);
        this.expect('punct', ']', '"]"');
      } else {
        break;
      }
    }
    return { objectType: typeTok.text, steps };
  }
  private step(): string {
    const t = this.next();
    if (t.kind === 'ident' || t.kind === 'kw' || t.kind === 'bool') return t.text;
    if (t.kind === 'string') return t.value!;
    throw new PatternError('a property name expected', t.at);
  }
}

/** Parses a STIX pattern. Throws {@link PatternError} when it does not follow STIX patterning. */
export function parsePattern(src: string): ObsNode {
  return new Parser(lex(src)).pattern();
}

/** One equality test of an indicator pattern, mapped to the node's indicator types. */
export interface PatternValue {
  /** `ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr`, `file:md5`, `file:sha1`, `file:sha256`, `file:sha512`. */
  type: string;
  value: string;
}

export interface ExtractedValues {
  /** True when the pattern is only equality tests joined by OR (no AND, NOT, FOLLOWEDBY or qualifiers). */
  simple: boolean;
  values: PatternValue[];
  /** Equality tests on properties the node does not keep (e.g. `file:name`). */
  unsupported: number;
}

const HASHES: Record<string, string> = { MD5: 'file:md5', SHA1: 'file:sha1', SHA256: 'file:sha256', SHA512: 'file:sha512' };

function typeOfPath(p: ObjectPath, value: string): string | undefined {
  const steps = p.steps.map(String).join('.');
  if (steps === 'value' && ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr'].includes(p.objectType)) return p.objectType;
  if (p.objectType === 'file' && p.steps.length === 2 && p.steps[0] === 'hashes') {
    return HASHES[String(p.steps[1]).toUpperCase().replace(/-/g, '')];
  }
  if (p.objectType === 'email-message' && (steps === 'from_ref.value' || steps === 'sender_ref.value')) return 'email-addr';
  if (p.objectType === 'network-traffic' && (steps === 'dst_ref.value' || steps === 'src_ref.value')) {
    const ip = isIP(value.split('/')[0]!);
    return ip === 4 ? 'ipv4-addr' : ip === 6 ? 'ipv6-addr' : undefined;
  }
  return undefined;
}

/**
 * The values a parsed pattern tests for equality, when it is simple (equality tests joined by OR only);
 * otherwise `simple: false` and no values. Never throws.
 */
export function extractValues(node: ObsNode): ExtractedValues {
  const tests: { path: ObjectPath; value: string }[] = [];
  const walkComp = (c: CompNode): boolean => {
    if (c.kind === 'or') return walkComp(c.left) && walkComp(c.right);
    if (c.kind !== 'test' || c.op !== '=' || c.negated || c.literal?.kind !== 'string') return false;
    tests.push({ path: c.path, value: c.literal.value });
    return true;
  };
  const walkObs = (o: ObsNode): boolean => {
    if (o.kind === 'OR') return walkObs(o.left) && walkObs(o.right);
    if (o.kind === 'obs') return !o.qualified && walkComp(o.comp);
    if (o.kind === 'group') return !o.qualified && walkObs(o.inner);
    return false;
  };
  if (!walkObs(node)) return { simple: false, values: [], unsupported: 0 };
  const values: PatternValue[] = [];
  let unsupported = 0;
  for (const t of tests) {
    const type = typeOfPath(t.path, t.value);
    if (type === undefined) unsupported++;
    else values.push({ type, value: t.value });
  }
  return { simple: true, values, unsupported };
}
