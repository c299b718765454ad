import type { SandboxLimits } from '../../contracts/sandbox';
import { BubblewrapSandbox } from './bubblewrap';
import { DEFAULT_LIMITS, type SandboxConfig } from './config';
import { DockerSandbox } from './docker';
import type { SandboxDriver } from './driver';
import { sandboxSlotsFor, type SandboxSlots } from './slots';

// Which isolation layer 2 runs generated code in, decided here only: workers build a SandboxSelector
// from their config and hand it to the activities, which ask it before every run.

/** A driver that can run here, or why none can: generated code never runs without isolation. */
export type SandboxChoice = { driver: SandboxDriver } | { driver?: undefined; reason: string };

/** Picks the configured driver, or with `auto` Docker then bubblewrap; checks it can really run. */
export async function selectSandbox(config: SandboxConfig): Promise<SandboxChoice> {
  if (config.driver === 'none') return { reason: 'the sandbox is switched off (SANDBOX_DRIVER=none)' };
  const docker = () => new DockerSandbox({ image: config.image, socketPath: config.dockerSocket });
  const bubblewrap = () => new BubblewrapSandbox({ bwrapPath: config.bwrapPath });
  const candidates =
    config.driver === 'docker'
      ? [docker()]
      : config.driver === 'bubblewrap'
        ? [bubblewrap()]
        : [docker(), bubblewrap()];
  const reasons: string[] = [];
  for (const driver of candidates) {
    const reason = await driver.unavailable();
    if (!reason) return { driver };
    reasons.push(`${driver.name}: ${reason}`);
  }
  return { reason: `no isolation available, so generated code is not run (${reasons.join('; ')})` };
}

/**
 * Chooses the sandbox and removes leftovers of runs whose worker died (containers, cgroups), so a
 * crash never leaves untrusted code running.
 */
export async function prepareSandbox(config: SandboxConfig): Promise<SandboxChoice & { reaped?: number }> {
  const choice = await selectSandbox(config);
  if (!choice.driver) return choice;
  return { ...choice, reaped: await choice.driver.reap() };
}

/** What layer 2 asks before each run: the driver to use now (or why there is none), and the limits. */
export interface SandboxProvider {
  current(): Promise<SandboxChoice>;
  readonly limits: SandboxLimits;
  /** The worker's limit on runs at once (SANDBOX_MAX_CONCURRENT); beyond it runs wait their turn. */
  readonly slots?: SandboxSlots;
}

/**
 * The worker's sandbox policy: chosen (and leftovers reaped) at start or on first use; a driver once
 * found is kept; without one, the next run looks again, since an engine may have started since.
 */
export class SandboxSelector implements SandboxProvider {
  private chosen?: Promise<SandboxChoice & { reaped?: number }>;
  readonly slots: SandboxSlots;

  /** `lookup` is how a choice is made; tests pass their own answers. */
  constructor(
    private readonly config: SandboxConfig,
    private readonly lookup: (config: SandboxConfig) => Promise<SandboxChoice & { reaped?: number }> = prepareSandbox,
  ) {
    this.slots = sandboxSlotsFor(config);
  }

  get limits(): SandboxLimits {
    return this.config.limits;
  }

  /** At worker start: the choice, with how many leftovers were removed. */
  start(): Promise<SandboxChoice & { reaped?: number }> {
    return this.choose();
  }

  current(): Promise<SandboxChoice> {
    return this.choose();
  }

  private choose(): Promise<SandboxChoice & { reaped?: number }> {
    this.chosen ??= this.lookup(this.config).then(
      (choice) => {
        if (!choice.driver) this.chosen = undefined; // no isolation yet: look again next time
        return choice;
      },
      (error: unknown) => {
        this.chosen = undefined;
        throw error;
      },
    );
    return this.chosen;
  }
}

/** A worker (or test) given no sandbox: layer 2 is "not assessed", never run unisolated. */
export const NO_SANDBOX: SandboxProvider = {
  current: () => Promise.resolve({ reason: 'this worker was started without a sandbox' }),
  limits: DEFAULT_LIMITS,
};
