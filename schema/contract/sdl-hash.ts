import { createHash } from 'node:crypto';
import {
  Kind,
  parse,
  print,
  type DefinitionNode,
  type DocumentNode,
  type EnumValueDefinitionNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
} from 'graphql';
import { CONTRIBUTION_SDL } from './contribution.js';

type Named = { name: { value: string } };

const byName = <T extends Named>(a: T, b: T): number => (a.name.value < b.name.value ? -1 : a.name.value > b.name.value ? 1 : 0);

function isFederationName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('link__') || name.startsWith('federation__');
}

function cleanArgs(args: readonly InputValueDefinitionNode[] | undefined): InputValueDefinitionNode[] {
  return [...(args ?? [])].map((a) => ({ ...a, description: undefined, directives: [] })).sort(byName);
}

function cleanFields(fields: readonly FieldDefinitionNode[] | undefined): FieldDefinitionNode[] {
  return [...(fields ?? [])]
    .filter((f) => !isFederationName(f.name.value))
    .map((f) => ({ ...f, description: undefined, directives: [], arguments: cleanArgs(f.arguments) }))
    .sort(byName);
}

function cleanValues(values: readonly EnumValueDefinitionNode[] | undefined): EnumValueDefinitionNode[] {
  return [...(values ?? [])].map((v) => ({ ...v, description: undefined, directives: [] })).sort(byName);
}

/**
 * A canonical form of a subgraph SDL for comparison: schema definitions/extensions, directive
 * definitions, federation's own types and fields (`_Service`, `_entities`, `link__*`), descriptions
 * and directive uses are dropped; types, fields, arguments and enum values are sorted by name.
 * Two nodes whose contribution schemas are equal up to order and comments get the same canonical SDL.
 */
export function canonicalSdl(sdl: string): string {
  const doc = parse(sdl, { noLocation: true });
  const kept: DefinitionNode[] = [];
  for (const def of doc.definitions) {
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION: {
        if (isFederationName(def.name.value)) break;
        const fields = cleanFields(def.fields);
        if (fields.length === 0) break;
        kept.push({ kind: Kind.OBJECT_TYPE_DEFINITION, name: def.name, interfaces: [...(def.interfaces ?? [])].sort(byName), directives: [], fields });
        break;
      }
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        if (!isFederationName(def.name.value)) kept.push({ ...def, description: undefined, directives: [], fields: cleanArgs(def.fields) });
        break;
      case Kind.ENUM_TYPE_DEFINITION:
        if (!isFederationName(def.name.value)) kept.push({ ...def, description: undefined, directives: [], values: cleanValues(def.values) });
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
        if (!isFederationName(def.name.value)) kept.push({ ...def, description: undefined, directives: [] });
        break;
      case Kind.INTERFACE_TYPE_DEFINITION:
        kept.push({ ...def, description: undefined, directives: [], fields: cleanFields(def.fields) });
        break;
      case Kind.UNION_TYPE_DEFINITION:
        if (!isFederationName(def.name.value)) kept.push({ ...def, description: undefined, directives: [], types: [...(def.types ?? [])].sort(byName) });
        break;
      default:
        break; // schema definitions/extensions and directive definitions are federation plumbing
    }
  }
  kept.sort((a, b) => byName(a as unknown as Named, b as unknown as Named));
  const out: DocumentNode = { kind: Kind.DOCUMENT, definitions: kept };
  return print(out);
}

/** SHA-256 (hex) of {@link canonicalSdl}. */
export function sdlHash(sdl: string): string {
  return createHash('sha256').update(canonicalSdl(sdl)).digest('hex');
}

/** The hash every node's published contribution SDL must have. */
export const contributionSdlHash: string = sdlHash(CONTRIBUTION_SDL);
