/** Helpers for the ingestion tests: small STIX builders, imports from memory, table counts. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccordError } from '../../schema/errors.js';
import type { NodeOrm } from '../../nodes/db/orm.js';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { importSource, INCIDENT_CORE_EXTENSION_ID, TLP2_MARKING_IDS, type ImportOptions, type ImportSummary, type IngestFormat } from '../../nodes/ingest/index.js';
import type { TlpLevel } from '../../schema/contract/dataset.js';

export const SECRET = 'ingest-test-secret-0123456789abcdef';
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const FIXTURES = resolve(ROOT, 'test/fixtures/stix');

/** The shared fixtures folder (MISP test event); undefined when absent. */
export function sharedFixtures(): string | undefined {
  const dir = resolve(ROOT, process.env.ACCORD_SHARED_FIXTURES ?? '../shared/fixtures');
  return existsSync(dir) ? dir : undefined;
}

export type Obj = Record<string, unknown>;

const T0 = '2025-01-01T00:00:00.000Z';

export function sid(type: string): string {
  return `${type}--${randomUUID()}`;
}

export function base(type: string, extra: Obj = {}): Obj {
  return { type, spec_version: '2.1', id: sid(type), created: T0, modified: T0, ...extra };
}

export function identity(sectors: string[] = ['energy'], extra: Obj = {}): Obj {
  return base('identity', { name: `Org ${randomUUID().slice(0, 8)}`, identity_class: 'organization', sectors, ...extra });
}

export function location(country: string, extra: Obj = {}): Obj {
  return base('location', { country, ...extra });
}

export function rel(type: string, source: Obj | string, target: Obj | string, extra: Obj = {}): Obj {
  return base('relationship', {
    relationship_type: type,
    source_ref: typeof source === 'string' ? source : source.id,
    target_ref: typeof target === 'string' ? target : target.id,
    ...extra,
  });
}

export function marking(level: TlpLevel): string[] {
  return [TLP2_MARKING_IDS[level]];
}

/** An incident on `date` with severity (via the incident-core criticality) and an optional TLP level. */
export function incident(date: string, opts: { severity?: number; tlp?: TlpLevel; disruption?: boolean; extra?: Obj } = {}): Obj {
  return base('incident', {
    name: 'incident',
    created: `${date}T10:00:00.000Z`,
    modified: `${date}T10:00:00.000Z`,
    ...(opts.tlp ? { object_marking_refs: marking(opts.tlp) } : {}),
    extensions: {
      [INCIDENT_CORE_EXTENSION_ID]: {
        extension_type: 'property-extension',
        determination: 'successful-attempt',
        investigation_status: 'closed',
        criticality: opts.severity === undefined ? 50 : 20 * (opts.severity - 1) + 10,
        ...(opts.disruption ? { availability_impacts: [{ availability_impact: 80 }] } : {}),
      },
    },
    ...opts.extra,
  });
}

export function bundle(objects: Obj[]): Obj {
  return { type: 'bundle', id: `bundle--${randomUUID()}`, objects };
}

/** Feeds `text` in chunks of `chunk` bytes. */
export async function* chunked(text: string | Buffer, chunk = 64 * 1024): AsyncGenerator<Buffer> {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
}

/** Imports a value (serialised as JSON unless it is a string) of `format` from memory. */
export async function importValue(orm: NodeOrm, value: unknown, format: IngestFormat = 'stix', opts: Partial<ImportOptions> & { chunk?: number } = {}): Promise<ImportSummary> {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return importSource(orm, chunked(text, opts.chunk), format, { secret: SECRET, ...opts });
}

/** The AccordError an import rejects with (fails the test when it resolves or throws something else). */
export async function refusal(p: Promise<unknown>): Promise<AccordError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AccordError) return e;
    throw new Error(`expected an AccordError, got ${String(e)}`);
  }
  throw new Error('expected the import to be refused, but it succeeded');
}

const TABLES = ['organisation', 'incident', 'exploit', 'incident_exploit', 'actor', 'incident_actor', 'indicator', 'stix_object', 'stix_edge', 'stix_indicator_value', 'ingest_incident'] as const;

/** Row counts of every table an import writes (the import history excepted). */
export async function counts(orm: NodeOrm): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await queryRows<{ n: unknown }>(knexOf(orm), dialectOf(orm), `select count(*) as "n" from "${t}"`))[0]?.n ?? 0);
  return out;
}

/** Registry objects by type. */
export async function objectsByType(orm: NodeOrm): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await queryRows<{ type: string; n: unknown }>(knexOf(orm), dialectOf(orm), 'select "type", count(*) as "n" from "stix_object" group by "type"')) out[r.type] = Number(r.n);
  return out;
}

/** Incident rows with their keys (test inspection). */
export async function incidentRows(orm: NodeOrm): Promise<Obj[]> {
  return queryRows<Obj>(
    knexOf(orm),
    dialectOf(orm),
    `select i."ref", i."date", i."country", i."sector", i."severity", i."disruption", i."tlp", o."ref" as "org" from "incident" i join "organisation" o on o."id" = i."organisation_id" order by i."ref"`,
  );
}
