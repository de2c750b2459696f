/**
 * CSV incidents → {@link IngestObject}s (docs/ingest.md, "CSV").
 *
 * RFC 4180 CSV (comma-separated, or tab-separated when the header has tabs and no commas; fields may be
 * double-quoted, `""` escapes a quote, quoted fields may span lines), UTF-8, one header line. Columns
 * (case-insensitive, any order):
 *
 *   incident_id   required  unique id of the incident in the operator's system
 *   date          required  YYYY-MM-DD or an RFC 3339 timestamp
 *   organisation  required  the affected organisation's local id or name (stored only as a keyed pseudonym)
 *   country       required  ISO 3166-1 alpha-2 / alpha-3 or English name
 *   sector        required  sector id, STIX industry-sector value or sector name
 *   severity      optional  1–5 (empty: the import's default)
 *   disruption    optional  true/false, yes/no, 1/0 (empty: false)
 *   tlp           optional  CLEAR, GREEN, AMBER, AMBER+STRICT, RED (or WHITE) (empty: the import's unmarked level)
 *   cves          optional  CVE ids separated by ";" (one the contract cannot carry is dropped and counted)
 *   tools         optional  tool or malware names separated by ";" (stored as contract keys: normaliseKey)
 *   actors        optional  actor names separated by ";" (likewise)
 *   indicators    optional  "type:value" separated by ";" (types: the contract's INDICATOR_TYPES)
 *   modified      optional  RFC 3339 version of the row (default: the row's content decides)
 *
 * Unknown columns, a missing required column, malformed values and rows with the wrong number of fields
 * are refused with CSV_INVALID naming the line and column. An unknown country or sector is not an error:
 * it is reported and the incident is held (not contributed).
 */
import { TextDecoder } from 'node:util';
import { isIsoDate } from '../../schema/contract/calendar.js';
import { INDICATOR_TYPES } from '../../schema/contract/indicator.js';
import { normaliseIndicator } from '../db/indicators.js';
import { csvInvalid } from './errors.js';
import { keyedStixId, resolveCountry, resolveSector } from './keys.js';
import type { IngestLimits } from './limits.js';
import { CVE_SHAPE, type IngestEdge, type IngestObject } from './model.js';
import { actorObject, contentVersion, organisationObject, toolObject, vulnerabilityObject } from './shared-objects.js';
import type { StixMapContext } from './stix.js';
import type { ReaderHooks } from './stix-reader.js';
import { parseTimestamp } from './timestamp.js';
import { parseTlpLevel } from './tlp.js';

export const CSV_COLUMNS = [
  'incident_id', 'date', 'organisation', 'country', 'sector', 'severity', 'disruption', 'tlp', 'cves', 'tools', 'actors', 'indicators', 'modified',
] as const;
const REQUIRED = ['incident_id', 'date', 'organisation', 'country', 'sector'] as const;
type Column = (typeof CSV_COLUMNS)[number];

const INDICATOR_TYPE_SET = new Set<string>(INDICATOR_TYPES);
const HASH_HEX: Record<string, number> = { 'file:md5': 32, 'file:sha1': 40, 'file:sha256': 64, 'file:sha512': 128 };

interface Record_ {
  fields: string[];
  /** Line where the record starts (1-based). */
  line: number;
}

/**
 * Incremental RFC 4180 parser. `push` adds the records completed by the text to `out`; `end` adds the
 * last one. Throws CSV_INVALID for a quote inside an unquoted field, text after a closing quote, an
 * unterminated quoted field, or a field or record over the limits.
 */
const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

class CsvParser {
  private delimiter: string | null = null;
  private state = S.FieldStart;
  private field = '';
  private fields: string[] = [];
  private line = 1;
  private recordLine = 1;
  private recordChars = 0;
  private started = false;
  private pendingCR = false;

  constructor(private readonly limits: IngestLimits) {}

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.state = S.FieldStart;
  }

  private endRecord(c: string, out: Record_[]): void {
    this.endField();
    if (!(this.fields.length === 1 && this.fields[0] === '')) out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
    if (c === '\r') this.pendingCR = true;
    this.line++;
    this.recordLine = this.line;
    this.recordChars = 0;
  }

  push(text: string, out: Record_[]): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const nl = text.indexOf('\n');
      const head = nl < 0 ? text : text.slice(0, nl);
      this.delimiter = head.includes('\t') && !head.includes(',') ? '\t' : ',';
    }
    const d = this.delimiter ?? ',';
    const maxField = this.limits.maxStringBytes;
    const maxRow = this.limits.maxCsvRowBytes;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === '\n') continue;
      }
      if (++this.recordChars > maxRow) throw csvInvalid(this.recordLine, null, `the row is longer than the limit of ${maxRow} characters`);
      switch (this.state) {
        case S.FieldStart:
        case S.Unquoted:
          if (c === '"' && this.state === S.FieldStart) this.state = S.Quoted;
          else if (c === d) this.endField();
          else if (c === '\n' || c === '\r') this.endRecord(c, out);
          else if (c === '"') throw csvInvalid(this.line, this.fields.length + 1, 'has a double quote inside an unquoted field');
          else {
            this.state = S.Unquoted;
            this.field += c;
          }
          break;
        case S.Quoted:
          if (c === '"') this.state = S.QuoteInQuoted;
          else {
            if (c === '\n') this.line++;
            this.field += c;
          }
          break;
        case S.QuoteInQuoted:
          if (c === '"') {
            this.field += '"';
            this.state = S.Quoted;
          } else if (c === d) this.endField();
          else if (c === '\n' || c === '\r') this.endRecord(c, out);
          else throw csvInvalid(this.line, this.fields.length + 1, 'has text after a closing double quote');
          break;
      }
      if (this.field.length > maxField) throw csvInvalid(this.recordLine, this.fields.length + 1, `has a field longer than the limit of ${maxField} characters`);
    }
  }

  end(out: Record_[]): void {
    if (this.state === S.Quoted) throw csvInvalid(this.recordLine, this.fields.length + 1, 'ends inside a quoted field (truncated file?)');
    if (this.field.length > 0 || this.fields.length > 0 || this.state !== S.FieldStart) this.endRecord('\n', out);
  }
}

function splitList(v: string): string[] {
  return v
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Maps one data row. Throws CSV_INVALID naming line and column. */
function mapRow(rec: Record_, cols: Map<Column, number>, ctx: StixMapContext): IngestObject[] {
  const get = (c: Column): string => {
    const i = cols.get(c);
    return i === undefined ? '' : (rec.fields[i] ?? '').trim();
  };
  const bad = (c: Column, problem: string) => csvInvalid(rec.line, c, problem);
  const incidentKey = get('incident_id');
  if (!incidentKey) throw bad('incident_id', 'is required');
  if (incidentKey.length > 255) throw bad('incident_id', 'is longer than 255 characters');
  const dateText = get('date');
  const date = isIsoDate(dateText) ? dateText : parseTimestamp(dateText)?.date;
  if (!date) throw bad('date', 'is not a YYYY-MM-DD date or RFC 3339 timestamp');
  const orgName = get('organisation');
  if (!orgName) throw bad('organisation', 'is required');
  const countryText = get('country');
  const country = resolveCountry(countryText, ctx.regions) ?? null;
  if (!country) ctx.summary.unknown('countries', countryText || '(empty)');
  const sectorText = get('sector');
  const sector = resolveSector(sectorText) ?? null;
  if (!sector) ctx.summary.unknown('sectors', sectorText || '(empty)');
  let severity: number | null = null;
  const sev = get('severity');
  if (sev) {
    if (!/^[1-5]$/.test(sev)) throw bad('severity', 'must be an integer from 1 to 5');
    severity = Number(sev);
  }
  let disruption: boolean | null = null;
  const dis = get('disruption').toLowerCase();
  if (dis) {
    if (['true', 'yes', '1', 'y'].includes(dis)) disruption = true;
    else if (['false', 'no', '0', 'n'].includes(dis)) disruption = false;
    else throw bad('disruption', 'must be true/false, yes/no or 1/0');
  }
  const tlpText = get('tlp');
  const tlp = tlpText ? parseTlpLevel(tlpText) : null;
  if (tlp === undefined) throw bad('tlp', 'must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED');
  const modText = get('modified');
  let version: string;
  if (modText) {
    const t = parseTimestamp(modText);
    if (!t) throw bad('modified', 'is not an RFC 3339 timestamp');
    version = t.canonical;
  } else {
    version = contentVersion(CSV_COLUMNS.map((c) => get(c)));
  }

  const out: IngestObject[] = [];
  const incidentId = keyedStixId(ctx.secret, 'incident', `csv-incident:${incidentKey}`);
  const edges: IngestEdge[] = [];
  const org = organisationObject(ctx.secret, 'csv-organisation', orgName, 'csv', rec.line, null, null);
  out.push(org);
  edges.push({ kind: 'targets', source: incidentId, target: org.stixId });
  const cves = splitList(get('cves'));
  for (const cve of cves) if (!CVE_SHAPE.test(cve)) throw bad('cves', `holds "${cve.slice(0, 40)}", which is not a CVE id`);
  for (const cve of ctx.summary.contractKeys('EXPLOIT', cves)) {
    const v = vulnerabilityObject(ctx.secret, cve, 'csv', rec.line);
    out.push(v);
    edges.push({ kind: 'targets', source: incidentId, target: v.stixId });
  }
  for (const name of ctx.summary.contractKeys('TOOL', splitList(get('tools')))) {
    const t = toolObject(ctx.secret, name, 'csv', rec.line);
    out.push(t);
    edges.push({ kind: 'uses', source: incidentId, target: t.stixId });
  }
  for (const name of ctx.summary.contractKeys('ACTOR', splitList(get('actors')))) {
    const a = actorObject(ctx.secret, name, 'csv', rec.line);
    out.push(a);
    edges.push({ kind: 'attributed-to', source: incidentId, target: a.stixId });
  }
  const values = new Map<string, { type: string; value: string }>();
  for (const item of splitList(get('indicators'))) {
    const m = /^(file:[a-z0-9]+|[a-z0-9-]+):(.+)$/i.exec(item);
    const type = m?.[1]?.toLowerCase();
    if (!m || !type || !INDICATOR_TYPE_SET.has(type)) throw bad('indicators', `holds "${item.slice(0, 40)}", which is not "type:value" with a known type`);
    const n = normaliseIndicator(type, m[2]!);
    const hex = HASH_HEX[type];
    if (n === undefined || (hex !== undefined && !(n.length === hex && /^[0-9a-f]+$/.test(n)))) throw bad('indicators', `holds a malformed ${type} value`);
    values.set(`${type}:${n}`, { type, value: n });
  }
  out.push({
    stixId: incidentId,
    type: 'incident',
    version,
    source: 'csv',
    index: rec.line,
    tlp,
    revoked: false,
    date,
    severity,
    disruption: disruption ?? false,
    country,
    sector,
    edges,
  });
  if (values.size > 0) {
    const indicatorId = keyedStixId(ctx.secret, 'indicator', `csv-incident:${incidentKey}`);
    ctx.summary.s.indicators.values += values.size;
    out.push({
      stixId: indicatorId,
      type: 'indicator',
      version,
      source: 'csv',
      index: rec.line,
      tlp,
      revoked: false,
      indicatorValues: [...values.values()],
      edges: [{ kind: 'indicates', source: indicatorId, target: incidentId }],
    });
  }
  return out;
}

/** Reads a CSV file (see the module comment). Throws AccordError('CSV_INVALID') naming line and column. */
export async function readCsv(source: AsyncIterable<Buffer>, ctx: StixMapContext, limits: IngestLimits, batchSize: number, hooks: ReaderHooks): Promise<void> {
  const parser = new CsvParser(limits);
  const decoder = new TextDecoder('utf-8');
  let cols: Map<Column, number> | null = null;
  let width = 0;
  const seenIds = new Map<string, number>();
  let batch: IngestObject[] = [];
  let bytes = 0;
  const handle = async (records: Record_[]): Promise<void> => {
    for (const rec of records) {
      if (cols === null) {
        cols = new Map();
        rec.fields.forEach((h, i) => {
          const name = h.trim().toLowerCase() as Column;
          if (!(CSV_COLUMNS as readonly string[]).includes(name)) throw csvInvalid(rec.line, h.trim() || i + 1, `is not a known column (known: ${CSV_COLUMNS.join(', ')})`);
          if (cols!.has(name)) throw csvInvalid(rec.line, name, 'appears twice');
          cols!.set(name, i);
        });
        for (const r of REQUIRED) if (!cols.has(r)) throw csvInvalid(rec.line, r, 'is required but missing from the header');
        width = rec.fields.length;
        continue;
      }
      if (rec.fields.length !== width) throw csvInvalid(rec.line, null, `has ${rec.fields.length} fields where the header has ${width}`);
      const key = (rec.fields[cols.get('incident_id')!] ?? '').trim();
      const prev = seenIds.get(key);
      if (prev !== undefined) throw csvInvalid(rec.line, 'incident_id', `repeats the incident of line ${prev}`);
      seenIds.set(key, rec.line);
      batch.push(...mapRow(rec, cols, ctx));
      if (batch.length >= batchSize) {
        await hooks.emit(batch);
        batch = [];
      }
    }
  };
  for await (const chunk of source) {
    bytes += chunk.length;
    const records: Record_[] = [];
    parser.push(decoder.decode(chunk, { stream: true }), records);
    await handle(records);
    hooks.progress(bytes);
  }
  const rest: Record_[] = [];
  parser.push(decoder.decode(), rest);
  parser.end(rest);
  await handle(rest);
  if (cols === null) throw csvInvalid(1, null, 'the file is empty (a header line is required)');
  await hooks.emit(batch);
}
