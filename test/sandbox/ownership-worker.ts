import { createInterface } from 'node:readline';
import { BubblewrapSandbox } from '../../adapters/sandbox/bubblewrap';
import { DockerSandbox } from '../../adapters/sandbox/docker';
import { OWNER, type SandboxDriver, type SandboxProcess } from '../../adapters/sandbox/driver';
import { runInSandbox } from '../../adapters/sandbox/session';
import { infiniteLoopProject, limitsFor } from './projects';

// One worker of the sandbox-ownership test: starts a long run (an infinite loop, 2 min wall clock), prints
// `started {id, pid, workerId}` once its test step runs, then answers each `reap` line on stdin with
// `reaped <n>` from its own driver's reaper. Run as `node --import tsx test/sandbox/ownership-worker.ts docker|bubblewrap`.

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
  limits: limitsFor({ timeoutMs: 120_000 }),
  onStep: (step) => {
    if (step !== 'test') return;
    process.stdout.write(
      `started ${JSON.stringify({ id: launched?.id, pid: process.pid, workerId: OWNER.workerId })}\n`,
    );
  },
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'reap') return;
  void inner.reap().then(
    (count) => process.stdout.write(`reaped ${count}\n`),
    (error: unknown) => process.stdout.write(`reap failed ${String(error)}\n`),
  );
});
