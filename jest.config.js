/** Unit and integration tests for every workspace; ts-jest transpiles only (tsc -b type-checks). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/schema/src', '<rootDir>/kernel-lib/src', '<rootDir>/server/src', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: '<rootDir>/tsconfig.base.json' }] },
  moduleNameMapper: {
    '^@cellgraph/schema$': '<rootDir>/schema/src/index.ts',
    '^@cellgraph/kernel$': '<rootDir>/kernel-lib/src/index.ts'
  },
  testTimeout: 60000
};
