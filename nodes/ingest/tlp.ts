/**
 * Traffic Light Protocol markings as STIX 2.1 expresses them.
 *
 * TLP 2.0 is a STIX extension, not core STIX: the extension definition
 * `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d` (OASIS cti-stix-common-objects,
 * `extension-definition-specifications/tlp-2.0`) fixes one marking-definition id per level. TLP 1.0
 * markings are the four predefined in STIX 2.1 §7.2.1.4; they map to their TLP 2.0 equivalents
 * (WHITE → CLEAR, GREEN, AMBER, RED). Where several markings apply, the most restrictive wins.
 */
import { TLP_LEVELS, type TlpLevel } from '../../schema/contract/dataset.js';

export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** The five TLP 2.0 marking definitions of the extension. */
export const TLP2_MARKING_IDS: Readonly<Record<TlpLevel, string>> = Object.freeze({
  CLEAR: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  GREEN: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  AMBER: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  RED: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
});

/** The four TLP 1.0 marking definitions predefined by STIX 2.1 (§7.2.1.4), by their 1.0 colour. */
export const TLP1_MARKING_IDS: Readonly<Record<'WHITE' | 'GREEN' | 'AMBER' | 'RED', string>> = Object.freeze({
  WHITE: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  GREEN: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  AMBER: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  RED: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
});

/** Every well-known TLP marking-definition id → its TLP 2.0 level. */
export const WELL_KNOWN_TLP: ReadonlyMap<string, TlpLevel> = new Map<string, TlpLevel>([
  ...(Object.entries(TLP2_MARKING_IDS) as [TlpLevel, string][]).map(([l, id]) => [id, l] as [string, TlpLevel]),
  [TLP1_MARKING_IDS.WHITE, 'CLEAR'],
  [TLP1_MARKING_IDS.GREEN, 'GREEN'],
  [TLP1_MARKING_IDS.AMBER, 'AMBER'],
  [TLP1_MARKING_IDS.RED, 'RED'],
]);

/** Restrictiveness: CLEAR 0 < GREEN 1 < AMBER 2 < AMBER+STRICT 3 < RED 4. */
export function tlpRank(l: TlpLevel): number {
  return TLP_LEVELS.indexOf(l);
}

/** The more restrictive of two levels; `null` stands for "no marking" and loses to any level. */
export function stricter(a: TlpLevel | null, b: TlpLevel | null): TlpLevel | null {
  if (a === null) return b;
  if (b === null) return a;
  return tlpRank(a) >= tlpRank(b) ? a : b;
}

/**
 * A TLP colour word as the 1.0 and 2.0 definitions and MISP tags spell it (`white`, `clear`, `green`,
 * `amber`, `amber+strict`, `red`; case-insensitive) → TLP 2.0 level, or undefined.
 */
export function tlpFromWord(word: unknown): TlpLevel | undefined {
  if (typeof word !== 'string') return undefined;
  switch (word.trim().toLowerCase()) {
    case 'white':
    case 'clear':
      return 'CLEAR';
    case 'green':
      return 'GREEN';
    case 'amber':
      return 'AMBER';
    case 'amber+strict':
    case 'amber-strict':
      return 'AMBER+STRICT';
    case 'red':
      return 'RED';
    default:
      return undefined;
  }
}

/** A TLP level as an operator may write it (`AMBER+STRICT`, `amber+strict`, `TLP:RED`, `white`), or undefined. */
export function parseTlpLevel(s: unknown): TlpLevel | undefined {
  if (typeof s !== 'string') return undefined;
  return tlpFromWord(s.trim().replace(/^tlp:/i, ''));
}
