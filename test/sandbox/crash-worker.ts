import { BubblewrapSandbox } from '../../adapters/sandbox/bubblewrap';
import { DockerSandbox } from '../../adapters/sandbox/docker';
import type { SandboxDriver, SandboxProcess } from '../../adapters/sandbox/driver';
import { runInSandbox } from '../../adapters/sandbox/session';
import { infiniteLoopProject, limitsFor } from './projects';

// A worker that is killed mid-run (abuse case 14): starts a long infinite-loop run and prints
// `started {id, hostUid, stepHostUid, pid}` once the test step begins; the test then SIGKILLs this process.
// Run as `node --import tsx test/sandbox/crash-worker.ts docker|bubblewrap [timeoutMs]`, so the pid is the worker's own.

const inner: SandboxDriver = process.argv[2] === 'docker' ? new DockerSandbox() : new BubblewrapSandbox();
let launched: SandboxProcess | undefined;
const driver: SandboxDriver = {
  name: inner.name,
  unavailable: () => inner.unavailable(),
  reap: (filter) => inner.reap(filter),
  launch: async (limits) => (launched = await inner.launch(limits)),
};

void runInSandbox(driver, {
  files: infiniteLoopProject(),
  limits: limitsFor({ timeoutMs: Number(process.argv[3] ?? 120_000) }),
  onStep: (step) => {
    if (step !== 'test') return;
    const info = { id: launched?.id, hostUid: launched?.hostUid, stepHostUid: launched?.stepHostUid, pid: process.pid };
    process.stdout.write(`started ${JSON.stringify(info)}\n`);
  },
}).then(
  (result) => {
    process.stdout.write(`finished ${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`failed ${String(error)}\n`);
    process.exitCode = 1;
  },
);
