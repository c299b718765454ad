import { BubblewrapSandbox } from './bubblewrap';
import { DockerSandbox } from './docker';

export { DEFAULT_LIMITS, sandboxEnvShape, toSandboxConfig, type SandboxConfig } from './config';
export type { SandboxDriver } from './driver';
export {
  NO_SANDBOX,
  prepareSandbox,
  SandboxSelector,
  selectSandbox,
  type SandboxChoice,
  type SandboxProvider,
} from './selection';
export { runInSandbox, type SandboxFile, type SandboxRunRequest } from './session';
export { checkSandboxCapacity, sandboxSlotsFor, SandboxSlots } from './slots';
export { BubblewrapSandbox, DockerSandbox };
