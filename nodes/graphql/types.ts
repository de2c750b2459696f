/**
 * The contribution contract as type-graphql classes. They must print exactly CONTRIBUTION_SDL
 * (schema/contract/contribution.ts); a test compares the canonical hashes. These are contract
 * types only — storage entities live in nodes/db and never appear here.
 */
import 'reflect-metadata';
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import {
  DIMENSIONS,
  MEASURES,
  type ContributionBounds,
  type ContributionFilter,
  type ContributionGroup,
  type Contribution,
  type ContributionRequest,
  type Dimension,
  type Measure,
} from '../../schema/contract/contribution.js';

const enumOf = <T extends string>(values: readonly T[]): { [K in T]: K } => Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

/** GraphQL enum `Measure`, values from the contract. */
export const MeasureEnum = enumOf(MEASURES);
/** GraphQL enum `Dimension`, values from the contract. */
export const DimensionEnum = enumOf(DIMENSIONS);

registerEnumType(MeasureEnum, { name: 'Measure' });
registerEnumType(DimensionEnum, { name: 'Dimension' });

@InputType('ContributionFilter')
export class ContributionFilterInput implements ContributionFilter {
  @Field(() => [String], { nullable: true }) countries?: string[];
  @Field(() => [String], { nullable: true }) regions?: string[];
  @Field(() => [String], { nullable: true }) subregions?: string[];
  @Field(() => [String], { nullable: true }) sectors?: string[];
  @Field(() => [String], { nullable: true }) exploits?: string[];
  @Field(() => [String], { nullable: true }) tools?: string[];
  @Field(() => [String], { nullable: true }) actors?: string[];
  @Field(() => [String], { nullable: true }) tlp?: string[];
  @Field(() => [String], { nullable: true }) indicators?: string[];
  @Field(() => String, { nullable: true }) from?: string;
  @Field(() => String, { nullable: true }) to?: string;
}

@InputType('ContributionBounds')
export class ContributionBoundsInput implements ContributionBounds {
  @Field(() => Int) maxPartitions!: number;
  @Field(() => Int) maxPerPartition!: number;
  @Field(() => Float, { nullable: true }) clampLo?: number;
  @Field(() => Float, { nullable: true }) clampHi?: number;
  @Field(() => Int, { nullable: true }) gridExponent?: number;
}

@InputType('ContributionRequest')
export class ContributionRequestInput implements ContributionRequest {
  @Field(() => String) queryId!: string;
  @Field(() => MeasureEnum) measure!: Measure;
  @Field(() => [DimensionEnum]) groupBy!: Dimension[];
  @Field(() => ContributionFilterInput, { nullable: true }) filter?: ContributionFilterInput;
  @Field(() => ContributionBoundsInput) bounds!: ContributionBoundsInput;
}

@ObjectType('ContributionGroup')
export class ContributionGroupType implements ContributionGroup {
  @Field(() => [String]) key!: string[];
  @Field(() => Int) count!: number;
  @Field(() => Float, { nullable: true }) sum!: number | null;
  @Field(() => Int, { nullable: true }) disrupted!: number | null;
}

@ObjectType('Contribution')
export class ContributionType implements Contribution {
  @Field(() => String) node!: string;
  @Field(() => String) queryId!: string;
  @Field(() => Int) units!: number;
  @Field(() => [ContributionGroupType]) groups!: ContributionGroupType[];
}
