/** Resolves after ms milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts; a returned message aborts the wait at once (e.g. "the server exited"). */
  abortReason?: () => string | undefined;
}

/**
 * Calls probe until it resolves without throwing, and returns its value.
 * On timeout, throws an error carrying the probe's last failure so the caller can say what was wrong.
 */
export async function waitUntil<T>(probe: () => Promise<T>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    const abort = options.abortReason?.();
    if (abort) throw new WaitError(abort, lastError);
    if (Date.now() >= deadline)
      throw new WaitError(`not ready after ${Math.round(options.timeoutMs / 1000)} s`, lastError);
    await sleep(options.intervalMs ?? 250);
  }
}

/** A failed wait: `reason` is why we stopped, `lastError` what the probe said last. */
export class WaitError extends Error {
  constructor(
    readonly reason: string,
    readonly lastError: unknown,
  ) {
    super(`${reason}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`);
    this.name = 'WaitError';
  }
}
