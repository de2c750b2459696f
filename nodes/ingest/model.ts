/**
 * The importers' common form: every STIX object, MISP event and CSV row becomes one or more
 * {@link IngestObject}s, which the store writes to the object registry and from which incident rows are
 * derived. Plus the import summary.
 */
import type { ExploitKind, TlpLevel } from '../../schema/contract/dataset.js';
import { nameNormalisation, normaliseCve, type NodeKeyDimension } from '../../schema/contract/keys.js';

/**
 * What the importers take for a CVE id (any number of digits, any case). A value of this shape that
 * the contract cannot carry (`normaliseCve`) is dropped and counted; a value not of this shape is
 * not a CVE id at all (MISP and CSV refuse it).
 */
export const CVE_SHAPE = /^CVE-\d{4}-\d{4,}$/i;

export type IngestFormat = 'stix' | 'misp' | 'csv';

/** A reference the node follows, stated by the object that owns it. */
export interface IngestEdge {
  /** Relationship type (`targets`, `uses`, …) or `sighting-of`, `where-sighted`, `created-by`. */
  kind: string;
  source: string;
  target: string;
}

export interface ExploitSpec {
  /** Natural key: the CVE id, `tool:<name>`, or `vulnerability:<name>`. */
  ref: string;
  cve: string | null;
  name: string;
  kind: ExploitKind;
  disclosed: string | null;
}

export interface ActorSpec {
  /** Natural key `actor:<name>`. */
  ref: string;
  name: string;
  catalogued: boolean;
  country: string | null;
}

export interface IngestObject {
  stixId: string;
  type: string;
  /** Canonical `modified` (or `created`), or `h:<hash>` for sources without versions; `''` for unversioned objects. */
  version: string;
  source: IngestFormat;
  /** Position in the input, for messages (STIX: index in `objects`; MISP: event index; CSV: line). */
  index: number;
  /** Most restrictive TLP level among well-known markings; null when none. */
  tlp: TlpLevel | null;
  /** Marking refs not known in advance, with the field naming them; resolved against definitions at the end of the import. */
  pendingMarkings?: { ref: string; field: string }[];
  revoked: boolean;
  name?: string | null;
  entityKey?: string | null;
  sector?: string | null;
  country?: string | null;
  date?: string | null;
  severity?: number | null;
  disruption?: boolean | null;
  sightingCount?: number | null;
  edges?: IngestEdge[];
  indicatorValues?: { type: string; value: string }[];
  exploit?: ExploitSpec;
  actor?: ActorSpec;
}

export interface TypeCounts {
  created: number;
  updated: number;
  skipped: number;
}

/** Why an incident or sighting gave no incident row. */
export type HeldReason = 'revoked' | 'not-seen' | 'no-organisation' | 'no-country' | 'no-sector';

/**
 * What one import did. Counts describe the operator's own input and stay on the node; they never
 * appear in anything served to the federation.
 */
export interface ImportSummary {
  format: IngestFormat;
  /** File name (without folders), when imported from a file. */
  file?: string;
  /** Objects read (STIX objects; MISP and CSV: the objects their events/rows were mapped onto). */
  objects: number;
  created: number;
  updated: number;
  skipped: number;
  byType: Record<string, TypeCounts>;
  /** Incident rows (re)built by this import, and the incidents/sightings that could not become one. */
  incidents: { derived: number; byTlp: Record<TlpLevel, number>; held: number; heldBy: Partial<Record<HeldReason, number>> };
  /** Objects that carried no TLP marking (their incidents take the import's `unmarkedTlp`). */
  unmarked: number;
  /** Values that map to no known sector / country / TLP level, with how often they occurred (at most 100 each). */
  unknown: { sectors: Record<string, number>; countries: Record<string, number>; tlp: Record<string, number> };
  /** References to objects that are neither in the input nor stored (ignored). */
  unresolvedRefs: number;
  /**
   * Indicator values kept; patterns that are not plain equality tests (or not STIX patterning); equality
   * tests (STIX) or attributes (MISP) of kinds the node does not keep (e.g. `file:name`, `regkey`); values
   * malformed for their type.
   */
  indicators: { values: number; nonSimplePatterns: number; unsupportedTests: number; malformedValues: number };
  /**
   * Node-data keys (schema/contract/keys.ts) the import had to change or drop: tool, malware and actor
   * names whose control characters or runs of white space became one space (`normalised`) or that were
   * cut at the longest key (`cut`); names with nothing left (`droppedNames`) and CVE ids the contract
   * cannot carry (`droppedCves`), both left out of the incident. Counted per occurrence.
   */
  keys: { normalised: number; cut: number; droppedNames: number; droppedCves: number };
  /** Objects without `spec_version` (read as STIX 2.0). */
  legacy: number;
  /** Types kept in the registry only (not mapped onto incidents), with counts. */
  registryOnly: Record<string, number>;
  durationMs: number;
  objectsPerSecond: number;
}

const MAX_UNKNOWN = 100;

/** Accumulates an {@link ImportSummary}. */
export class SummaryBuilder {
  readonly s: ImportSummary;
  constructor(format: IngestFormat, file?: string) {
    this.s = {
      format,
      ...(file ? { file } : {}),
      objects: 0,
      created: 0,
      updated: 0,
      skipped: 0,
      byType: {},
      incidents: { derived: 0, byTlp: { CLEAR: 0, GREEN: 0, AMBER: 0, 'AMBER+STRICT': 0, RED: 0 }, held: 0, heldBy: {} },
      unmarked: 0,
      unknown: { sectors: {}, countries: {}, tlp: {} },
      unresolvedRefs: 0,
      indicators: { values: 0, nonSimplePatterns: 0, unsupportedTests: 0, malformedValues: 0 },
      keys: { normalised: 0, cut: 0, droppedNames: 0, droppedCves: 0 },
      legacy: 0,
      registryOnly: {},
      durationMs: 0,
      objectsPerSecond: 0,
    };
  }

  count(type: string, what: keyof TypeCounts): void {
    const t = (this.s.byType[type] ??= { created: 0, updated: 0, skipped: 0 });
    t[what]++;
    this.s[what]++;
  }

  unknown(kind: 'sectors' | 'countries' | 'tlp', value: string): void {
    const m = this.s.unknown[kind];
    const v = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    if (v in m || Object.keys(m).length < MAX_UNKNOWN) m[v] = (m[v] ?? 0) + 1;
  }

  /**
   * `raw` as a key of `dimension` in contract form (`normaliseKey`), or undefined when the contract
   * cannot carry it (the caller leaves it out of the incident); counts what was changed or dropped.
   */
  contractKey(dimension: NodeKeyDimension, raw: string): string | undefined {
    const k = this.s.keys;
    if (dimension === 'EXPLOIT') {
      const cve = normaliseCve(raw);
      if (cve === undefined) k.droppedCves++;
      return cve;
    }
    const n = nameNormalisation(raw);
    if (n.key === undefined) k.droppedNames++;
    else if (n.cut) k.cut++;
    else if (n.changed) k.normalised++;
    return n.key;
  }

  /** {@link contractKey} of each of `raws`, without duplicates and without the dropped ones. */
  contractKeys(dimension: NodeKeyDimension, raws: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const raw of raws) {
      const key = this.contractKey(dimension, raw);
      if (key !== undefined) out.add(key);
    }
    return out;
  }

  registryOnly(type: string): void {
    this.s.registryOnly[type] = (this.s.registryOnly[type] ?? 0) + 1;
  }
}
