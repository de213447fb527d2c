/** Unit and integration tests for every workspace; ts-jest transpiles only; scripts/test.sh
 * type-checks sources (tsc -b) and tests (tsconfig.tests.json) first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/schema/src', '<rootDir>/kernel-lib/src', '<rootDir>/server/src', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  moduleNameMapper: {
    '^@cellgraph/schema$': '<rootDir>/schema/src/index.ts',
    '^@cellgraph/kernel$': '<rootDir>/kernel-lib/src/index.ts'
  },
  testTimeout: 60000,
  // One private PostgreSQL cluster for the whole run, started only if a test asks for it.
  globalSetup: '<rootDir>/server/src/dev-services/postgres-jest-setup.ts',
  globalTeardown: '<rootDir>/server/src/dev-services/postgres-jest-teardown.ts'
};
