import { dirname, join } from 'node:path';

/** Where things are inside every sandbox (both drivers, and any production image): docs/sandbox.md. */
export const SANDBOX_UID = 10001;
export const WORK_DIR = '/work';
export const DEPS_DIR = '/opt/qlp/deps';
export const RUNNER_IN_SANDBOX = '/opt/qlp/runner.cjs';

/** The runner script on this machine. */
export const RUNNER_PATH = join(__dirname, 'runner', 'runner.cjs');
/** The sandbox's /etc: localhost, and names for root and the sandbox user (uid ${SANDBOX_UID}). */
export const SANDBOX_ETC = join(__dirname, 'runner', 'etc');

/**
 * The curated offline dependency set generated projects may use, provisioned read-only in the sandbox
 * (activities/agents/curated-dependencies.json names them for the agents; undici-types comes with @types/node).
 */
export const CURATED_PACKAGES = ['typescript', '@types/node', 'undici-types'] as const;

/** A curated package's directory in this installation's node_modules. */
export function curatedPackageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`, { paths: [join(__dirname, '..', '..')] }));
}
