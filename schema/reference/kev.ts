/**
 * CISA Known Exploited Vulnerabilities catalog — the public key domain for exploits (CVE ids).
 *
 * Data: `catalog/kev.json`, all entries of the catalog version in `KEV_CATALOG_VERSION`, trimmed to the
 * fields below (see `catalog/SOURCES.md`). Vendor, product and name are trimmed of surrounding spaces;
 * `knownRansomwareCampaignUse` is `true` for the source's "Known", `false` for "Unknown".
 */
import catalog from './catalog/kev.json' with { type: 'json' };

export interface KevEntry {
  /** `CVE-YYYY-NNNN…`, upper case. */
  readonly cveID: string;
  readonly vendorProject: string;
  readonly product: string;
  readonly vulnerabilityName: string;
  /** ISO date `YYYY-MM-DD` the entry was added to the catalog. */
  readonly dateAdded: string;
  readonly knownRansomwareCampaignUse: boolean;
}

interface KevFile {
  catalogVersion: string;
  dateReleased: string;
  vulnerabilities: KevEntry[];
}

const file = catalog as KevFile;

/** Catalog version of the bundled data (e.g. `2025.08.25`). */
export const KEV_CATALOG_VERSION: string = file.catalogVersion;

/** Every catalog entry, newest first (the source's order). */
export const KEV: readonly KevEntry[] = Object.freeze(file.vulnerabilities.map((e) => Object.freeze({ ...e })));

const BY_CVE: ReadonlyMap<string, KevEntry> = new Map(KEV.map((e) => [e.cveID, e]));

/** The catalog entry for a CVE id (case-insensitive, surrounding spaces ignored), or `undefined`. Never throws. */
export function kevByCve(cve: string): KevEntry | undefined {
  return typeof cve === 'string' ? BY_CVE.get(cve.trim().toUpperCase()) : undefined;
}

/** True when the CVE id (canonical upper-case form) is in the catalog. */
export function isKevCve(cve: string): boolean {
  return typeof cve === 'string' && BY_CVE.has(cve);
}

/** The year part of a CVE id (`CVE-2021-44228` → 2021), or `undefined` when malformed. */
export function cveYear(cve: string): number | undefined {
  const m = typeof cve === 'string' ? /^CVE-(\d{4})-\d{4,}$/i.exec(cve.trim()) : null;
  return m ? Number(m[1]) : undefined;
}
