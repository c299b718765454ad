import { BubblewrapSandbox } from './bubblewrap';
import type { SandboxConfig } from './config';
import { DockerSandbox } from './docker';
import type { SandboxDriver } from './driver';

export { DEFAULT_LIMITS, sandboxEnvShape, toSandboxConfig, type SandboxConfig } from './config';
export type { SandboxDriver } from './driver';
export { runInSandbox, type SandboxFile, type SandboxRunRequest } from './session';
export { BubblewrapSandbox, DockerSandbox };

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
 * What a worker does at start: chooses the sandbox and removes leftovers of runs whose worker died
 * (containers, cgroups), so a crash never leaves untrusted code running.
 */
export async function prepareSandbox(config: SandboxConfig): Promise<SandboxChoice & { reaped?: number }> {
  const choice = await selectSandbox(config);
  if (!choice.driver) return choice;
  return { ...choice, reaped: await choice.driver.reap() };
}
