/**
 * Reading a STIX 2.1 bundle (or TAXII 2.1 envelope) from a byte stream into batches of
 * {@link IngestObject}s, with bounded memory.
 */
import { stixInvalid } from './errors.js';
import { BundleSplitter, JsonStreamError } from './json-stream.js';
import type { IngestLimits } from './limits.js';
import type { IngestObject } from './model.js';
import { mapStixObject, type StixMapContext } from './stix.js';

const BUNDLE_ID = /^bundle--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export interface ReaderHooks {
  /** Receives each batch in input order; awaited before reading on (back-pressure). */
  emit(batch: IngestObject[]): Promise<void>;
  /** Bytes consumed so far. */
  progress(bytes: number): void;
}

/** A JSON structure problem as STIX_INVALID. */
export function stixJsonError(e: JsonStreamError): Error {
  return stixInvalid(e.index, null, null, e.message, e.position);
}

/**
 * Streams `source` as one bundle. Throws AccordError('STIX_INVALID') for malformed or truncated JSON,
 * limits exceeded, a document that is not a bundle, or an invalid object (naming its index, id and field).
 */
export async function readStixBundle(
  source: AsyncIterable<Buffer>,
  ctx: StixMapContext,
  limits: IngestLimits,
  batchSize: number,
  hooks: ReaderHooks,
): Promise<void> {
  const splitter = new BundleSplitter(limits, (key, value, position) => {
    if (key === 'type' && value !== 'bundle') throw stixInvalid(null, null, 'type', 'of the document must be "bundle"', position);
    if (key === 'id' && !(typeof value === 'string' && BUNDLE_ID.test(value))) throw stixInvalid(null, null, 'id', 'of the bundle must be "bundle--<UUID>"', position);
    // STIX 2.1 bundles carry no spec_version; 2.0 bundles carry "2.0". "2.1" is a common producer slip, tolerated.
    if (key === 'spec_version' && value !== '2.0' && value !== '2.1') throw stixInvalid(null, null, 'spec_version', 'of the bundle must be "2.0" (or absent)', position);
  });
  let batch: IngestObject[] = [];
  let sawObjects = false;
  try {
    for await (const chunk of source) {
      const elements = splitter.write(chunk);
      for (const el of elements) {
        sawObjects = true;
        batch.push(mapStixObject(el.value, el.index, ctx));
      }
      if (batch.length >= batchSize) {
        await hooks.emit(batch);
        batch = [];
      }
      hooks.progress(splitter.bytes);
    }
    splitter.end();
  } catch (e) {
    if (e instanceof JsonStreamError) throw stixJsonError(e);
    throw e;
  }
  if (!sawObjects && !splitter.members.has('type') && !splitter.hasObjects) {
    throw stixInvalid(null, null, null, 'is not a STIX bundle (it has neither "type": "bundle" nor "objects")');
  }
  await hooks.emit(batch);
}
