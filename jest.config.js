/**
 * Tests of every workspace, in three tiers told apart by file name:
 *   unit         *.test.ts              no processes, servers or network; `npm run test:unit`
 *   integration  *.integration.test.ts  starts processes or servers (CLI, API server, S3, registry)
 *   e2e          *.e2e.test.ts          examples and whole product paths (tslab, Kubernetes)
 * `npx jest --selectProjects <tier>` runs one tier; `npm test` (scripts/test.sh) runs them all.
 * ts-jest transpiles only; scripts/test.sh type-checks sources (tsc -b) and tests
 * (tsconfig.tests.json) first.
 */
const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/schema/src', '<rootDir>/kernel-lib/src', '<rootDir>/server/src', '<rootDir>/dev/src', '<rootDir>/examples'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
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
