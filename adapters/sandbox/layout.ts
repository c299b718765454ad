import { dirname, join } from 'node:path';

/** Where things are inside every sandbox (both drivers, and any production image): docs/sandbox.md. */
/** The uid the project's steps (install, compile, tests) run as. */
export const SANDBOX_UID = 10001;
/**
 * The runner's own uid: root of the sandbox (Docker: the container's root; bubblewrap as root: its user
 * namespace's root), with only the capabilities to start the steps as SANDBOX_UID and to end them, so
 * nothing the project runs can read its memory, open its output or signal it.
 */
export const RUNNER_UID = 0;
export const WORK_DIR = '/work';
export const DEPS_DIR = '/opt/qlp/deps';
export const RUNNER_IN_SANDBOX = '/opt/qlp/runner.cjs';

/** The runner script on this machine. */
export const RUNNER_PATH = join(__dirname, 'runner', 'runner.cjs');
/** The sandbox's /etc: localhost, and names for root and the sandbox user (uid ${SANDBOX_UID}). */
export const SANDBOX_ETC = join(__dirname, 'runner', 'etc');

/**
 * The curated offline dependency set generated projects may use, provisioned read-only in the sandbox
 * (agents/curated-dependencies.json names them for the agents; undici-types comes with @types/node).
 */
export const CURATED_PACKAGES = ['typescript', '@types/node', 'undici-types'] as const;

/** A curated package's directory in this installation's node_modules. */
export function curatedPackageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`, { paths: [join(__dirname, '..', '..')] }));
}
