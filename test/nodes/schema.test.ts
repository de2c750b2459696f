/**
 * The node's federated schema: it is exactly the contribution contract, and nothing reachable from
 * Query returns a row, an organisation id, an indicator value or free text.
 */
import { describe, expect, it } from 'vitest';
import {
  getNamedType,
  graphql,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLNamedType,
} from 'graphql';
import { CONTRIBUTION_SDL } from '../../schema/contract/contribution.js';
import { canonicalSdl, contributionSdlHash, sdlHash } from '../../schema/contract/sdl-hash.js';
import { nodeSubgraphSchema } from '../../nodes/graphql/schema.js';

async function serviceSdl(): Promise<string> {
  const res = await graphql({ schema: nodeSubgraphSchema(), source: '{ _service { sdl } }' });
  expect(res.errors).toBeUndefined();
  return (res.data as { _service: { sdl: string } })._service.sdl;
}

/** Every output field coordinate reachable from Query, and every named type reached. */
function reachable(): { fields: Set<string>; types: Map<string, GraphQLNamedType> } {
  const schema = nodeSubgraphSchema();
  const fields = new Set<string>();
  const types = new Map<string, GraphQLNamedType>();
  const queue: GraphQLNamedType[] = [schema.getQueryType()!];
  for (const root of [schema.getMutationType(), schema.getSubscriptionType()]) if (root) queue.push(root);
  while (queue.length > 0) {
    const t = queue.pop()!;
    if (types.has(t.name)) continue;
    types.set(t.name, t);
    if (isObjectType(t) || isInterfaceType(t)) {
      for (const f of Object.values(t.getFields())) {
        fields.add(`${t.name}.${f.name}`);
        queue.push(getNamedType(f.type));
        for (const a of f.args) queue.push(getNamedType(a.type));
      }
      if (isObjectType(t)) queue.push(...t.getInterfaces());
    } else if (isUnionType(t)) {
      queue.push(...t.getTypes());
    } else if (isInputObjectType(t)) {
      for (const f of Object.values(t.getFields())) queue.push(getNamedType(f.type));
    }
  }
  return { fields, types };
}

describe('node subgraph schema', () => {
  it('publishes exactly the contribution SDL (canonical hash equals contributionSdlHash)', async () => {
    const sdl = await serviceSdl();
    expect(canonicalSdl(sdl)).toBe(canonicalSdl(CONTRIBUTION_SDL));
    expect(sdlHash(sdl)).toBe(contributionSdlHash);
  });

  it('the hash check has teeth: one extra field changes it', async () => {
    const sdl = await serviceSdl();
    const drifted = sdl.replace('type ContributionGroup {', 'type ContributionGroup {\n  organisation: String');
    expect(drifted).not.toBe(sdl);
    expect(sdlHash(drifted)).not.toBe(contributionSdlHash);
  });

  it('is a Federation 2 subgraph', async () => {
    expect(await serviceSdl()).toContain('https://specs.apollo.dev/federation/v2.7');
  });

  it('reaches only the allowed output fields from Query (including _service and _entities)', () => {
    const { fields } = reachable();
    expect([...fields].sort()).toEqual(
      [
        'Query.contribution',
        'Query._service',
        '_Service.sdl',
        'Contribution.node',
        'Contribution.queryId',
        'Contribution.units',
        'Contribution.groups',
        'ContributionGroup.key',
        'ContributionGroup.count',
        'ContributionGroup.sum',
        'ContributionGroup.disrupted',
      ].sort(),
    );
    // no entities: nothing can be fetched by key through _entities
    expect(nodeSubgraphSchema().getQueryType()!.getFields()._entities).toBeUndefined();
    expect(nodeSubgraphSchema().getType('_Entity')).toBeUndefined();
    expect(nodeSubgraphSchema().getMutationType()).toBeUndefined();
    expect(nodeSubgraphSchema().getSubscriptionType()).toBeUndefined();
  });

  it('returns only counts, sums, public keys and identifiers of the node and the query', () => {
    const { types } = reachable();
    const outputTypes = [...types.values()].filter((t) => isObjectType(t)).map((t) => t.name).sort();
    expect(outputTypes).toEqual(['Contribution', 'ContributionGroup', 'Query', '_Service']);
    const scalars = [...types.values()].filter((t) => isScalarType(t)).map((t) => t.name).sort();
    expect(scalars).toEqual(['Float', 'Int', 'String']);
    const enums = [...types.values()].filter((t) => isEnumType(t)).map((t) => t.name).sort();
    expect(enums).toEqual(['Dimension', 'Measure']);
  });
});
