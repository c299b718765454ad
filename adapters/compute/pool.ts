import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';

/** A module whose exports are the tasks: pure functions of structured-cloneable input. */
type TaskModule = Record<string, (input: never) => unknown>;

/**
 * CPU-heavy work (compiler, linter, compliance AST walks) on worker threads, so the event loop that
 * serves Temporal (heartbeats, workflow tasks) and HTTP stays free. At most `threads` run at once; the
 * rest wait in the pool's queue.
 */
export class ComputePool<Tasks extends TaskModule> {
  private readonly pool: Piscina;

  /** `idleMs`: how long an idle thread is kept (it holds the loaded compiler) before the pool ends it. */
  constructor(taskModule: string, threads = availableParallelism(), idleMs = 60_000) {
    this.pool = new Piscina({
      filename: join(__dirname, 'thread.cjs'),
      workerData: { module: taskModule },
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: idleMs,
    });
  }

  get threads(): number {
    return this.pool.options.maxThreads;
  }

  run<K extends keyof Tasks & string>(
    task: K,
    input: Parameters<Tasks[K]>[0],
    signal?: AbortSignal,
  ): Promise<Awaited<ReturnType<Tasks[K]>>> {
    return this.pool.run({ task, input }, { signal }) as Promise<Awaited<ReturnType<Tasks[K]>>>;
  }

  /** Lets running tasks finish, then ends the threads. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
