export { NodeRegistry, NODE_STATUSES, type NodeStatus, type NodeSnapshot, type RegistryOptions } from './registry.js';
