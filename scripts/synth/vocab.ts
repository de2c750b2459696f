/**
 * Public names the synthetic generator draws from: tool and malware families, the actors most reported
 * in Europe, and a generator for node-local family names. Weights are rough relative frequencies,
 * invented for realism of shape, not measured.
 */
import type { Rng } from './prng.js';

/** Widely reported tools and malware families (public names) with relative weights. */
export const PUBLIC_TOOLS: ReadonlyArray<readonly [name: string, weight: number]> = [
  ['Cobalt Strike', 30],
  ['Mimikatz', 25],
  ['Impacket', 12],
  ['PsExec', 10],
  ['AnyDesk', 9],
  ['Agent Tesla', 7],
  ['QakBot', 6],
  ['AsyncRAT', 6],
  ['Remcos', 6],
  ['RedLine Stealer', 6],
  ['Lumma Stealer', 6],
  ['LockBit', 6],
  ['Sliver', 6],
  ['Metasploit', 6],
  ['Rclone', 6],
  ['IcedID', 5],
  ['Emotet', 5],
  ['PlugX', 5],
  ['BloodHound', 5],
  ['AdFind', 5],
  ['SocGholish', 4],
  ['Akira', 4],
  ['Black Basta', 4],
  ['Raspberry Robin', 3],
  ['BlackCat', 3],
  ['Play', 3],
  ['njRAT', 3],
  ['DarkGate', 3],
  ['SystemBC', 3],
  ['Brute Ratel C4', 3],
  ['ShadowPad', 2],
  ['Havoc', 2],
  ['Conti', 2],
  ['Royal', 2],
  ['Clop', 2],
  ['Rhysida', 2],
  ['Medusa', 2],
  ['Pikabot', 2],
  ['Latrodectus', 2],
  ['Gootloader', 2],
  ['8Base', 1],
  ['BlackEnergy', 0.3],
  ['Industroyer', 0.2],
  ['Havex', 0.2],
  ['Industroyer2', 0.15],
  ['Triton', 0.1],
];

/**
 * Rarely reported OT/ICS families used for the planted tool campaign. They never occur in background
 * incidents, so a planted campaign is the only source of their counts.
 */
export const CAMPAIGN_TOOLS: readonly string[] = ['FrostyGoop', 'INCONTROLLER', 'COSMICENERGY', 'Fuxnet'];

/** Catalogued actors most reported against European targets, with relative weights (names as in the catalog). */
export const ACTOR_HEAD: ReadonlyArray<readonly [name: string, weight: number]> = [
  ['APT28', 8],
  ['APT29', 5],
  ['Sandworm', 5],
  ['Lazarus Group', 4],
  ['APT41', 4],
  ['FIN7', 4],
  ['NoName057(16)', 4],
  ['Turla', 3],
  ['Gamaredon Group', 3],
  ['Scattered Spider', 3],
  ['MuddyWater', 3],
  ['TA505', 3],
  ['Evil Corp', 3],
  ['APT31', 3],
  ['Killnet', 3],
  ['Volt Typhoon', 2],
  ['APT33', 2],
  ['APT35', 2],
  ['Kimsuky', 2],
  ['APT10', 2],
  ['Ghostwriter', 2],
  ['ENERGETIC BEAR', 2],
  ['Cyber Av3ngers', 1],
  ['TEMP.Veles', 1],
];

/** Actors that plausibly run a campaign against energy operators (catalog names). */
export const ENERGY_CAMPAIGN_ACTORS: readonly string[] = ['Sandworm', 'ENERGETIC BEAR', 'APT28', 'Volt Typhoon'];

/** Vendors of internet-facing edge devices, whose CVEs drive most initial-access campaigns. */
export const EDGE_VENDORS: ReadonlySet<string> = new Set([
  'Fortinet',
  'Ivanti',
  'Citrix',
  'Cisco',
  'Palo Alto Networks',
  'SonicWall',
  'F5',
  'Zyxel',
  'Juniper',
  'Check Point',
  'Progress',
  'Atlassian',
  'VMware',
]);

/** Vulnerabilities exploited far more than the rest of the catalog (weight multipliers). */
export const FAMOUS_CVES: Readonly<Record<string, number>> = {
  'CVE-2021-44228': 40, // Log4Shell
  'CVE-2021-34473': 20, // ProxyShell
  'CVE-2021-26855': 20, // ProxyLogon
  'CVE-2023-34362': 15, // MOVEit Transfer
  'CVE-2023-4966': 15, // Citrix Bleed
  'CVE-2022-30190': 12, // Follina
  'CVE-2017-0144': 12, // EternalBlue
  'CVE-2018-13379': 15, // FortiOS SSL VPN
  'CVE-2023-46805': 10, // Ivanti Connect Secure
  'CVE-2024-21887': 10, // Ivanti Connect Secure
  'CVE-2024-3400': 10, // PAN-OS GlobalProtect
  'CVE-2022-26134': 10, // Confluence
  'CVE-2019-19781': 12, // Citrix ADC
  'CVE-2020-1472': 12, // Zerologon
};

const SYL_A = ['gr', 'vel', 'tor', 'kas', 'mir', 'dro', 'bel', 'zan', 'quor', 'sil', 'ny', 'ost', 'hal', 'brin', 'cal', 'fen', 'jor', 'lum', 'pex', 'rav'];
const SYL_B = ['ak', 'ol', 'ix', 'en', 'ura', 'isk', 'ot', 'amb', 'el', 'yn', 'ar', 'orn', 'ept', 'ud', 'ive', 'os'];
const SYL_C = ['', 'a', 'o', 'is', 'er', 'ex', 'on', 'us'];
const SUFFIX = ['', '', 'Loader', 'RAT', 'Stealer', 'Backdoor', 'Dropper', 'Wiper'];

/** A plausible-looking family name (e.g. `Velixer Loader`) that is not a public name above. */
export function localFamilyName(rng: Rng): string {
  const stem = rng.pick(SYL_A) + rng.pick(SYL_B) + rng.pick(SYL_C);
  const name = stem[0]!.toUpperCase() + stem.slice(1);
  const suffix = rng.pick(SUFFIX);
  return suffix ? `${name} ${suffix}` : name;
}
