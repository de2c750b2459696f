/**
 * Public threat-actor catalog (MISP galaxy `threat-actor`) — the public key domain for named actors.
 *
 * Data: `catalog/actors.json` (see `catalog/SOURCES.md`): per actor its name (the galaxy `value`), synonyms,
 * suspected origin country (`meta.country`, ISO alpha-2), CFR suspected victims and targeted sectors.
 * Victim names are resolved to ISO alpha-2 with `countryByName`; entries that name no country ("Europe",
 * "NATO", a company) are not kept as victims. Targeted-sector names are resolved with `sectorFromName`;
 * names that map to no sector are not kept. A released actor key is always the catalog `name`.
 */
import data from './catalog/actors.json' with { type: 'json' };
import { countryByName } from './countries.js';
import { sectorFromName, type SectorId } from './sectors.js';

export interface Actor {
  /** Catalog name (MISP galaxy `value`), e.g. `APT28`. Unique, also case-insensitively. */
  readonly name: string;
  /** Other names for the same actor, as the catalog lists them. */
  readonly synonyms: readonly string[];
  /** ISO 3166-1 alpha-2 of the suspected origin, when the catalog states one. */
  readonly country?: string;
  /** ISO alpha-2 codes of suspected victim countries (CFR), deduplicated, in catalog order. */
  readonly victims: readonly string[];
  /** Primary sector ids the actor is known to target, deduplicated, in catalog order. */
  readonly sectors: readonly SectorId[];
}

interface ActorRow {
  name: string;
  synonyms?: string[];
  country?: string;
  victims?: string[];
  sectors?: string[];
}

interface ActorFile {
  version: number;
  actors: ActorRow[];
}

const file = data as ActorFile;

/** Version of the bundled MISP galaxy cluster. */
export const ACTOR_CATALOG_VERSION: number = file.version;

function uniq<T>(xs: Iterable<T | undefined>): T[] {
  const out: T[] = [];
  for (const x of xs) if (x !== undefined && !out.includes(x)) out.push(x);
  return out;
}

/** Every catalogued actor, in catalog order. */
export const ACTORS: readonly Actor[] = Object.freeze(
  file.actors.map((r) =>
    Object.freeze({
      name: r.name,
      synonyms: Object.freeze([...(r.synonyms ?? [])]),
      ...(r.country ? { country: r.country } : {}),
      victims: Object.freeze(uniq((r.victims ?? []).map((v) => countryByName(v)?.alpha2))),
      sectors: Object.freeze(uniq((r.sectors ?? []).map((s) => sectorFromName(s)))),
    }),
  ),
);

const key = (s: string) => s.trim().toLowerCase();

/** Lower-cased name or synonym → actor. Catalog names win over synonyms; among synonyms, the first actor in catalog order wins. */
const BY_NAME: ReadonlyMap<string, Actor> = (() => {
  const m = new Map<string, Actor>();
  for (const a of ACTORS) m.set(key(a.name), a);
  for (const a of ACTORS) for (const s of a.synonyms) if (!m.has(key(s))) m.set(key(s), a);
  return m;
})();

/**
 * The catalogued actor with this name or synonym (case-insensitive, surrounding spaces ignored), or
 * `undefined`. A catalog name always resolves to its own entry; a synonym shared by several entries
 * resolves to the first of them in catalog order. Never throws.
 */
export function actorByName(nameOrSynonym: string): Actor | undefined {
  return typeof nameOrSynonym === 'string' ? BY_NAME.get(key(nameOrSynonym)) : undefined;
}

/** True when the name or synonym is in the public catalog (case-insensitive). */
export function isCataloguedActor(nameOrSynonym: string): boolean {
  return actorByName(nameOrSynonym) !== undefined;
}
