/**
 * The objects MISP events and CSV rows are mapped onto besides the incident itself: tools, actors,
 * vulnerabilities and identities known by name. Their ids are keyed by the node secret, so the same
 * name always hits the same object and a stored id does not reveal a victim's name.
 */
import { createHash } from 'node:crypto';
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { actorByName } from '../../schema/reference/actors.js';
import { keyedStixId, organisationKey } from './keys.js';
import type { IngestFormat, IngestObject } from './model.js';

/** `h:` + SHA-256 of the parts: the version of content that has no version of its own. */
export function contentVersion(...parts: unknown[]): string {
  return `h:${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

function base(secret: string | Buffer, type: string, key: string, source: IngestFormat, index: number, tlp: TlpLevel | null): IngestObject {
  return { stixId: keyedStixId(secret, type, key), type, version: '', source, index, tlp, revoked: false };
}

/** A tool or malware family by name; `n` must be a TOOL key in contract form (`SummaryBuilder.contractKey`). */
export function toolObject(secret: string | Buffer, n: string, source: IngestFormat, index: number): IngestObject {
  const o = base(secret, 'tool', `tool:${n}`, source, index, null);
  o.version = contentVersion(n);
  o.name = n;
  o.exploit = { ref: `tool:${n}`, cve: null, name: n, kind: 'tool', disclosed: null };
  o.entityKey = o.exploit.ref;
  return o;
}

/** A vulnerability by CVE id; `cve` must be an EXPLOIT key in contract form (`SummaryBuilder.contractKey`). */
export function vulnerabilityObject(secret: string | Buffer, cve: string, source: IngestFormat, index: number): IngestObject {
  const o = base(secret, 'vulnerability', `vulnerability:${cve}`, source, index, null);
  o.version = contentVersion(cve);
  o.name = cve;
  o.exploit = { ref: cve, cve, name: cve, kind: 'n-day', disclosed: null };
  o.entityKey = cve;
  return o;
}

/** A threat actor by name (resolved against the public actor catalog); `n` must be an ACTOR key in contract form (`SummaryBuilder.contractKey`). */
export function actorObject(secret: string | Buffer, n: string, source: IngestFormat, index: number): IngestObject {
  const known = actorByName(n);
  const o = base(secret, 'threat-actor', `actor:${known?.name ?? n}`, source, index, null);
  o.version = contentVersion(known?.name ?? n);
  o.name = n;
  o.actor = known
    ? { ref: `actor:${known.name}`, name: known.name, catalogued: true, country: known.country ?? null }
    : { ref: `actor:${n}`, name: n, catalogued: false, country: null };
  o.entityKey = o.actor.ref;
  return o;
}

/** An organisation known by a name or id in the source (`scope` keeps MISP and CSV names apart). */
export function organisationObject(
  secret: string | Buffer,
  scope: string,
  name: string,
  source: IngestFormat,
  index: number,
  sector: string | null,
  country: string | null,
): IngestObject {
  const o = base(secret, 'identity', `${scope}:${name.trim().toLowerCase()}`, source, index, null);
  o.version = contentVersion(sector, country);
  o.entityKey = organisationKey(secret, o.stixId);
  o.sector = sector;
  o.country = country;
  return o;
}
