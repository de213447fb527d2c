/**
 * Tests of every workspace, in three tiers told apart by file name:
 *   unit         *.test.ts              no processes, servers or network; `npm run test:unit`
 *   integration  *.integration.test.ts  starts processes or servers (CLI, API server, S3, registry)
 *   e2e          *.e2e.test.ts          examples and whole product paths (tslab, Kubernetes)
 * `npx jest --selectProjects <tier>` runs one tier; `npm test` (scripts/test.sh) runs them all.
 * ts-jest transpiles only; scripts/test.sh type-checks sources (tsc -b) and tests
 * (tsconfig.tests.json) first.
 */
// Tests start no detached compile daemon (it would outlive the run by its idle timeout): CLI
// processes spawned by tests compile in process. The daemon's own tests switch it back on.
process.env.CELLGRAPH_COMPILE_DAEMON = process.env.CELLGRAPH_COMPILE_DAEMON || 'off';

/** Packages published only as ES modules that server code require()s (see transform). */
const ESM_ONLY = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/schema/src', '<rootDir>/kernel-lib/src', '<rootDir>/server/src', '<rootDir>/dev/src', '<rootDir>/examples'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
    // ES-module-only packages (the Kubernetes client 1.x and its OpenID client): Node >= 22.12
    // require()s them natively, but jest's own module loader does not, so jest gets them as
    // CommonJS, transpiled once and cached.
    '^.+\\.js$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest-esm.json' }]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleNameMapper: {
    '^@cellgraph/schema$': '<rootDir>/schema/src/index.ts',
    '^@cellgraph/kernel$': '<rootDir>/kernel-lib/src/index.ts',
    // The dev workspace reaches the server's modules through its package: the same source
    // files the server's tests load, so a class is one class whichever path loaded it.
    '^@cellgraph/server/dist/(.*)$': '<rootDir>/server/src/$1',
    '^@cellgraph/dev/(.*)$': '<rootDir>/dev/src/$1'
  }
};

module.exports = {
  testTimeout: 60000,
  // One private PostgreSQL cluster for the whole run, started only if a test asks for it.
  globalSetup: '<rootDir>/dev/src/services/postgres-jest-setup.ts',
  globalTeardown: '<rootDir>/dev/src/services/postgres-jest-teardown.ts',
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.test\\.ts$', '\\.e2e\\.test\\.ts$']
    },
    { ...shared, displayName: 'integration', testMatch: ['**/*.integration.test.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['**/*.e2e.test.ts'] }
  ]
};
