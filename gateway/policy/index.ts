export { CEDAR_SCHEMA } from './cedar-schema.js';
export { DEMO_BUDGETS, DEMO_MEMBERS, DEMO_POLICIES } from './defaults.js';
export { compilePolicies, PolicyEngine, type CompiledPolicies, type NodeDecision, type PolicyContext, type PolicyNode } from './engine.js';
export { lintPolicy } from './lint.js';
export { AccessControl, type AccessSources, type ReloadResult } from './store.js';
