/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Fixture projects carry their own tests: they are validated, not run by jest.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/fixtures/'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // One real stack (Temporal dev server, SeaweedFS, a fresh PostgreSQL database) for the whole run.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'],
  // Tests wait on events (workflow results, queries, read-model rows) with a generous window
  // (test/support/stack.ts PATIENCE_MS); the per-test limit sits above it, so a slow machine is slow, not red.
  testTimeout: 600_000,
  // Two test files at a time on 2 cores: each runs its own API, workers and validation threads.
  maxWorkers: 2,
};
