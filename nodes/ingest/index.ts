/**
 * Getting operators' data into a node: STIX 2.1 bundles, MISP event JSON and CSV, with TLP 2.0
 * markings, streamed and written in one transaction per import (docs/ingest.md).
 */
export { importFile, importSource, detectFormat, DEFAULT_SEVERITY, DEFAULT_UNMARKED_TLP, type ImportOptions, type ImportProgress } from './importer.js';
export type { ImportSummary, IngestFormat, HeldReason, TypeCounts } from './model.js';
export { DEFAULT_LIMITS, type IngestLimits } from './limits.js';
export { TLP1_MARKING_IDS, TLP2_EXTENSION_ID, TLP2_MARKING_IDS, WELL_KNOWN_TLP, parseTlpLevel, tlpRank } from './tlp.js';
export { INCIDENT_CORE_EXTENSION_ID } from './stix.js';
export { CSV_COLUMNS } from './csv.js';
export { organisationKey } from './keys.js';
export { ingestStats, type IngestStats } from './stats.js';
