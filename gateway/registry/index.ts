export { NodeRegistry, NODE_STATUSES, type NodeStatus, type NodeSnapshot, type RegistryOptions, type Availability } from './registry.js';
