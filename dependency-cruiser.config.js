// The layering of src/ (README "Code layout", docs/design.md "Layers"), checked by `make lint`:
// an import not allowed below, or any cycle (type-only imports included), fails the run.
// test/lint/layering.test.ts runs this file on small trees with a violation so the rules cannot go quiet.

// Leaves anyone may import; they import only each other.
const SHARED = '^src/(errors[.]ts|re2-pattern[.]ts|yaml/|config/)';
// The modules the controller composes; none imports another.
const MIDDLE = '^src/(sources|enforce|verify|scan|webhook|runtime|observability)/';

export default {
  allowedSeverity: 'error',
  allowed: [
    // Inside one module (src/<name>/...) files import each other freely, cycles aside.
    { from: { path: '^src/([^/]+)/' }, to: { path: '^src/$1/' } },
    { from: { path: '^src/' }, to: { path: SHARED } },
    { from: { path: '^src/registry/' }, to: { path: '^src/api/' } },
    { from: { path: MIDDLE }, to: { path: '^src/(registry|api)/' } },
    { from: { path: '^src/controller/' }, to: { path: `${MIDDLE.slice(0, -1)}|^src/(registry|api)/` } },
    {
      from: { path: '^src/cli/' },
      to: {
        path: '^src/(controller|sources|enforce|verify|scan|webhook|runtime|observability|registry|api)/',
      },
    },
  ],
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A cycle, type-only imports included, means two modules share a job or a type lives in the wrong one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'verify-does-no-registry-io',
      comment:
        'verify/ judges the material it is given (issue 15): signatures are fetched by registry/signature-fetch.ts and OCSP/CRL by registry/revocation-http.ts, both composed by the caller.',
      severity: 'error',
      from: { path: '^src/verify/' },
      to: { path: '^src/registry/(client|transport|signature-fetch|revocation-http)[.]ts$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the checker cannot resolve is an arrow it cannot judge.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports are arrows too (issue 15: the LogLevel and NotationEnvelope cycles were type-only).
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // Only src/ is layered; npm packages and node: built-ins are not part of the graph.
    includeOnly: '^src/',
  },
};
