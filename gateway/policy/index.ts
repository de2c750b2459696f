export { CEDAR_SCHEMA } from './cedar-schema.js';
export { policyContext, regionsTouched } from '../admission/policy-context.js';
export { DEMO_BUDGETS, DEMO_MEMBERS, DEMO_POLICIES } from './defaults.js';
export { compilePolicies, PolicyEngine, type CompiledPolicies, type NodeDecision, type PolicyContext, type PolicyNode } from './engine.js';
export { lintPolicy } from './lint.js';
export { loadMembersFile, tlpLevelsUpTo, TLP_CEILINGS, validateMembers, type Member, type TlpCeiling } from '../members.js';
export { AccessControl, type AccessSources, type ReloadResult } from './store.js';
