/**
 * Accord's layering, stated once. `npm run layers` and test/layering.test.ts check the tree against it
 * (scripts/layers.ts runs dependency-cruiser with these rules).
 *
 * Paths are regular expressions on paths relative to the directory cruised, so the same rules judge
 * the repository or any tree laid out like it. Type-only imports count: a type import is still a
 * dependency of the design. Every folder or file named here must exist (see `namedPaths` below),
 * so moving one cannot make a rule pass by matching nothing.
 *
 * scripts/ and test/ may import anything: no rule starts from them.
 */

/** Product code: the folders the rules judge. */
const PRODUCT = ['schema/', 'runtime/', 'gateway/', 'nodes/'];

/**
 * The gateway's layers, lowest first. A module may import from its own layer or a lower one, never
 * from a higher one. A path ending in `/` is a folder, anything else a file.
 */
const GATEWAY_LAYERS = [
  { name: 'L1-foundations', paths: ['gateway/members.ts', 'gateway/context.ts', 'gateway/log.ts', 'gateway/net/', 'gateway/ledger/'] },
  { name: 'L2-services', paths: ['gateway/config.ts', 'gateway/auth/', 'gateway/grants/', 'gateway/policy/', 'gateway/registry/'] },
  { name: 'L3-aggregate', paths: ['gateway/aggregate/'] },
  { name: 'L4-admission', paths: ['gateway/admission/'] },
  { name: 'L5-federation', paths: ['gateway/federation/', 'gateway/http/'] },
  { name: 'L6-composition-root', paths: ['gateway/app.ts', 'gateway/cli.ts', 'gateway/main.ts', 'gateway/index.ts'] },
];

/** Named above but allowed to be absent. */
const OPTIONAL = ['gateway/index.ts'];

/** An npm package, wherever the tree's node_modules sits. */
const npm = (name) => `(^|/)node_modules/${name}/`;
const ANY_NPM = '(^|/)node_modules/';
const GRAPHQL = npm('graphql');

/** The anchored regular expression for a folder (`x/`) or a file (`x.ts`). */
const re = (p) => '^' + p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + (p.endsWith('/') ? '' : '$');

const layerRules = GATEWAY_LAYERS.slice(0, -1).map((layer, i) => {
  const higher = GATEWAY_LAYERS.slice(i + 1);
  return {
    name: `gateway-${layer.name}-imports-no-higher-layer`,
    comment:
      `${layer.name} (${layer.paths.join(', ')}) sits below ${higher.map((l) => l.name).join(', ')}: ` +
      'a lower layer must not import a higher one, so each layer can be read, tested and replaced ' +
      'knowing only what lies beneath it.',
    severity: 'error',
    from: { path: layer.paths.map(re) },
    to: { path: higher.flatMap((l) => l.paths).map(re) },
  };
});

const ALL_LAYERED = GATEWAY_LAYERS.flatMap((l) => l.paths).map(re);

const forbidden = [
  // schema/: the contract
  {
    name: 'schema-imports-only-itself-node-and-graphql',
    comment:
      'schema/ is the contract both sides compile against: it may import only itself, Node built-ins ' +
      'and graphql-js, so a node or the gateway never drags the other side’s framework in through it.',
    severity: 'error',
    from: { path: '^schema/' },
    to: { pathNot: ['^schema/', GRAPHQL], dependencyTypesNot: ['core'] },
  },
  {
    name: 'schema-graphql-only-in-contract',
    comment:
      'graphql-js serves the contribution contract (SDL hashing) only; the rest of schema/ — privacy ' +
      'core, reference data, error catalog — is plain TypeScript.',
    severity: 'error',
    from: { path: '^schema/', pathNot: '^schema/contract/' },
    to: { path: GRAPHQL },
  },
  {
    name: 'privacy-imports-only-itself-and-errors',
    comment:
      'The privacy core (samplers, mechanisms, accounting) must be auditable on its own: it imports ' +
      'nothing but itself and the error catalog.',
    severity: 'error',
    from: { path: '^schema/privacy/', pathNot: '^schema/privacy/entropy\\.ts$' },
    to: { pathNot: ['^schema/privacy/', '^schema/errors\\.ts$'] },
  },
  {
    name: 'privacy-entropy-imports-only-os-randomness',
    comment:
      'entropy.ts is the privacy core’s one source of randomness: beyond the core and the error ' +
      'catalog it may import node:crypto (the operating system’s CSPRNG) and nothing else.',
    severity: 'error',
    from: { path: '^schema/privacy/entropy\\.ts$' },
    to: { pathNot: ['^schema/privacy/', '^schema/errors\\.ts$', '^(node:)?crypto$'] },
  },

  // runtime/: the shared floor
  {
    name: 'runtime-imports-only-schema-and-libraries',
    comment:
      'runtime/ is the floor the gateway and nodes share (ORM opener, HTTP helpers, error mapping, ' +
      'logger): it may import schema/, npm libraries and Node built-ins, never a side that stands on it.',
    severity: 'error',
    from: { path: '^runtime/' },
    to: { pathNot: ['^runtime/', '^schema/', ANY_NPM], dependencyTypesNot: ['core'] },
  },

  // gateway/ and nodes/: the two sides
  {
    name: 'gateway-never-imports-nodes',
    comment:
      'The gateway and a node meet only in schema/ and runtime/: a node runs in another organisation ' +
      'and the gateway must build and run without any node’s code.',
    severity: 'error',
    from: { path: '^gateway/' },
    to: { path: '^nodes/' },
  },
  {
    name: 'nodes-never-import-gateway',
    comment:
      'A node is deployed by a member on its own: it must build and run without the gateway’s code, ' +
      'talking to it only through the contract in schema/.',
    severity: 'error',
    from: { path: '^nodes/' },
    to: { path: '^gateway/' },
  },
  {
    name: 'product-never-imports-scripts-or-test',
    comment:
      'scripts/ and test/ stand on the product, not under it: what ships must not depend on ' +
      'benchmarks, generators or test helpers.',
    severity: 'error',
    from: { path: '^(gateway|nodes)/' },
    to: { path: '^(scripts|test)/' },
  },
  {
    name: 'gateway-and-nodes-import-only-schema-runtime-and-themselves',
    comment:
      'Besides npm libraries and Node built-ins, gateway/ and nodes/ stand only on schema/ and ' +
      'runtime/ (and themselves): no reaching into build output or files at the repository root.',
    severity: 'error',
    from: { path: '^(gateway|nodes)/' },
    to: {
      pathNot: ['^(gateway|nodes|schema|runtime|scripts|test)/', ANY_NPM],
      dependencyTypesNot: ['core'],
      couldNotResolve: false,
    },
  },

  // Cycles
  {
    name: 'no-circular',
    comment:
      'A cycle makes its modules one unit that can only be understood, loaded and tested together, ' +
      'and makes import order matter at start-up.',
    severity: 'error',
    from: { path: PRODUCT.map(re) },
    to: { circular: true },
  },

  // The gateway's layers
  ...layerRules,
  {
    name: 'gateway-module-outside-the-layers',
    comment:
      'Every gateway module belongs to one of the layers listed in this file; a module outside them ' +
      'would escape the ordering.',
    severity: 'error',
    from: { path: '^gateway/', pathNot: ALL_LAYERED },
    to: { path: '^gateway/' },
  },
  {
    name: 'gateway-import-of-module-outside-the-layers',
    comment:
      'A layered gateway module importing a gateway module that belongs to no layer would reach ' +
      'around the ordering.',
    severity: 'error',
    from: { path: ALL_LAYERED },
    to: { path: '^gateway/', pathNot: ALL_LAYERED },
  },

  // Resolution
  {
    name: 'no-unresolvable-import',
    comment: 'An import the checker cannot resolve is one no rule above can judge.',
    severity: 'error',
    from: { path: PRODUCT.map(re) },
    to: { couldNotResolve: true },
  },
];

module.exports = {
  forbidden,
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    // Keep paths under node_modules/ when node_modules is a link, so the npm rules match.
    preserveSymlinks: true,
    moduleSystems: ['es6', 'cjs'],
    // `types` too, so a types-only package (imported with `import type`) resolves.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    skipAnalysisNotInRules: true,
  },
};

// dependency-cruiser rejects unknown top-level keys in a configuration, so what the runner needs
// besides rules and options is attached without being enumerable.
Object.defineProperties(module.exports, {
  /** The folders cruised, where present (runtime/ may not be, but then it is reported missing). */
  roots: { value: PRODUCT },
  /** Every folder or file a rule names; each must exist, unless it is listed as optional. */
  namedPaths: {
    value: [
      ...PRODUCT,
      'schema/contract/',
      'schema/privacy/',
      'schema/privacy/entropy.ts',
      'schema/errors.ts',
      'scripts/',
      'test/',
      ...GATEWAY_LAYERS.flatMap((l) => l.paths),
    ].filter((p) => !OPTIONAL.includes(p)),
  },
});
