import 'reflect-metadata';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { NodeContext } from './context.js';
import { ContributionRequestInput, ContributionType } from './types.js';

/** The only query a node serves. A thin shell over ContributionService (validation, guard, SQL, log). */
@Resolver()
export class ContributionResolver {
  @Query(() => ContributionType)
  async contribution(@Arg('request', () => ContributionRequestInput) request: ContributionRequestInput, @Ctx() ctx: NodeContext): Promise<ContributionType> {
    return ctx.service.contribute(request, { grant: ctx.grant, requestId: ctx.requestId });
  }
}
