import { readdir, readFile } from 'node:fs/promises';
import { ComputePool } from '../adapters/compute/pool';
import type * as threaded from '../validation/threaded';
import { typeCheck } from '../validation/static/typescript';
import { eventually } from './support/stack';

const project = {
  files: [
    { path: 'src/sum.ts', content: 'export const sum = (a: number, b: number): number => a + b;\n' },
    { path: 'src/bad.ts', content: "export const n: number = 'not a number';\n" },
  ],
};

/** Zombie children of this process: exited, and not collected by anyone. */
async function zombieChildren(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    if (ppid === process.pid && /^State:\s+Z/m.test(status)) found.push(/^Name:\s+(.*)$/m.exec(status)?.[1] ?? entry);
  }
  return found;
}

test('the compute pool gives the same type-check as the main thread, and leaves no process behind when it closes', async () => {
  const pool = new ComputePool<typeof threaded>(require.resolve('../validation/threaded'), 2);
  const [first, second] = await Promise.all([pool.run('typeCheck', { project }), pool.run('typeCheck', { project })]);
  await pool.close();
  const inline = typeCheck(project, { nodeTypes: true });
  expect(first.diagnostics).toEqual(inline.diagnostics);
  expect(second.diagnostics).toEqual(inline.diagnostics);
  expect(first.diagnostics).toEqual([expect.stringMatching(/^src\/bad\.ts:1:\d+ TS2322/)]);
  // Whatever a thread started is collected (a zombie of ours that stays would pile up in a long-lived worker).
  await eventually(async () => ((await zombieChildren()).length === 0 ? true : undefined), 'no zombie children');
});

test('threads the pool ends when idle are replaced by new ones that load the task module again', async () => {
  const pool = new ComputePool<typeof threaded>(require.resolve('../validation/threaded'), 2, 50);
  try {
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all([pool.run('typeCheck', { project }), pool.run('typeCheck', { project })]);
      expect(results.map((r) => r.filesChecked)).toEqual([2, 2]);
      await new Promise((resolve) => setTimeout(resolve, 500)); // idle past 50 ms: the threads end
    }
  } finally {
    await pool.close();
  }
});
