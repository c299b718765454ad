import { join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * The test stack's settings: its own ports, data directory and database, so tests never touch
 * a developer's running stack (default ports). QLP_TEST_PORT_OFFSET (a multiple of 100) shifts every port (27233–27257), so two
 * test runs (two checkouts, or helpers working side by side) can run at once.
 */
export function testEnvironment(
  runId: string,
  offset = Number(process.env.QLP_TEST_PORT_OFFSET ?? 0),
): Record<string, string> {
  const port = (base: number) => String(base + offset);
  return {
    QLP_DATA_DIR: join(tmpdir(), `qlp-test-${runId}`),
    TEMPORAL_ADDRESS: `127.0.0.1:${port(27233)}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${port(27240)}`,
    TEMPORAL_NAMESPACE: 'default',
    S3_ENDPOINT: `http://127.0.0.1:${port(27250)}`,
    S3_BUCKET: 'qlp-test',
    S3_ACCESS_KEY: 'qlp-test-access',
    S3_SECRET_KEY: 'qlp-test-secret-key',
    DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/qlp_test_${runId}`,
    GATE_TIMEOUT: '1h',
    // Layer 2 in the workflow tests: bubblewrap starts in ~50 ms; test/sandbox covers both drivers.
    SANDBOX_DRIVER: 'bubblewrap',
    // Quiet: a failing test's output is the failure (warnings and errors only).
    LOG_LEVEL: 'warn',
  };
}
