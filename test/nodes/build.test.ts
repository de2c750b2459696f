/**
 * A node built without listening (buildNode): its Apollo instance answers in-process through
 * executeOperation, with the same error mapping as over HTTP, and closing it releases everything.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRIBUTION_OPERATION, type Contribution, type ContributionRequest } from '../../schema/contract/contribution.js';
import { buildNode, type BuiltNode } from '../../nodes/app.js';
import { quietLogger } from '../gateway/helpers.js';
import { tempDir } from './helpers/db.js';

const REQUEST: ContributionRequest = { queryId: 'in-process', measure: 'INCIDENTS', groupBy: ['TLP'], bounds: { maxPartitions: 1, maxPerPartition: 1 } };

describe('a node built without listening', () => {
  const dir = tempDir();
  let node: BuiltNode;

  beforeAll(async () => {
    node = await buildNode({ id: 'node-built', dataDir: dir, operatorToken: 'operator-token-for-build-tests-0123', grants: 'disabled', logger: quietLogger });
  });
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const execute = (variables: Record<string, unknown>) =>
    node.graphql.apollo.executeOperation<{ contribution: Contribution }>({ query: CONTRIBUTION_OPERATION, variables }, { contextValue: { service: node.service, requestId: 'r-in-process' } });

  it('answers a contribution in-process', async () => {
    const res = await execute({ request: REQUEST });
    expect(res.body.kind).toBe('single');
    if (res.body.kind !== 'single') return;
    expect(res.body.singleResult.errors).toBeUndefined();
    expect(res.body.singleResult.data?.contribution).toMatchObject({ node: 'node-built', queryId: 'in-process', units: 0 });
  });

  it('maps errors as over HTTP: a catalog refusal keeps its details beside the code, bad variables are INVALID_QUERY', async () => {
    const refused = await execute({ request: { ...REQUEST, bounds: { maxPartitions: 1, maxPerPartition: 1, clampLo: 3, clampHi: 2 }, measure: 'SEVERITY_SUM' } });
    if (refused.body.kind !== 'single') throw new Error('expected a single result');
    expect(refused.body.singleResult.errors?.[0]?.extensions?.code).toBe('INVALID_BOUNDS');
    const coerced = await execute({ request: { ...REQUEST, measure: 'NOT_A_MEASURE' } });
    if (coerced.body.kind !== 'single') throw new Error('expected a single result');
    expect(coerced.body.singleResult.errors?.[0]?.extensions).toEqual({ code: 'INVALID_QUERY', graphqlCode: 'BAD_USER_INPUT' });
  });
});
