/**
 * Per-provider admission: at most `maxConcurrency` requests in flight and at most
 * `requestsPerMinute` started in any sliding minute (0 = unlimited). Per worker process:
 * with N workers the provider sees up to N times these numbers (docs/llm.md).
 */
export class ProviderLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly startedAt: number[] = [];

  constructor(
    private readonly maxConcurrency: number,
    private readonly requestsPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `work` once a slot is free and the rate allows; `signal` abandons the wait. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      await this.awaitRate(signal);
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.maxConcurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', abort);
        this.active++;
        resolve();
      };
      const abort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(
          signal?.reason instanceof Error ? signal.reason : new Error('cancelled while waiting for a provider slot'),
        );
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  private async awaitRate(signal?: AbortSignal): Promise<void> {
    if (this.requestsPerMinute <= 0) return;
    for (;;) {
      const now = this.now();
      while (this.startedAt.length && this.startedAt[0]! <= now - 60_000) this.startedAt.shift();
      if (this.startedAt.length < this.requestsPerMinute) {
        this.startedAt.push(now);
        return;
      }
      // Re-checked at least every second, so the wait follows the clock rather than a stale estimate.
      const waitMs = this.startedAt[0]! + 60_000 - now;
      await sleep(Math.min(Math.max(waitMs, 10), 1_000), signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled while waiting for the rate limit'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('cancelled while waiting for the rate limit'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
