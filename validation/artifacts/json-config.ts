import { CommandAnalyser } from './commands';
import { artifactFinding, emptyReview, notAssessed, type ArtifactRule, type FileReview } from './rule';

export const JSON_RULES = {
  autoRunTask: {
    id: 'vscode/auto-run-task',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-829'],
    remediation: 'Do not run tasks on folder open: whoever opens the project runs the command.',
  },
  hostCommand: {
    id: 'devcontainer/host-command',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-829'],
    remediation: 'Keep devcontainer commands inside the container: initializeCommand runs on the developer’s machine.',
  },
} as const satisfies Record<string, ArtifactRule>;

const COMMAND_SIGNS = ['curl', 'wget', 'insecure', 'no-check-certificate', 'tls_reject', 'ssl', 'chmod', 'iwr', 'irm'];
const isVscodeTasks = (path: string) => /(^|\/)\.vscode\/tasks\.json$/.test(path);
const isDevcontainer = (path: string) =>
  /(^|\/)(\.devcontainer\/([^/]+\/)?devcontainer|\.devcontainer)\.json$/.test(path);

/** JSON with comments and trailing commas (tsconfig, VS Code, devcontainer) as strict JSON, in one pass. */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, ++i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === ',') {
      let next = i + 1;
      while (next < text.length && ' \t\r\n'.includes(text[next]!)) next++;
      if (text[next] !== '}' && text[next] !== ']') out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Every string value of a JSON document (iteratively: depth is untrusted too). */
function* strings(value: Json): Generator<string> {
  const stack: Json[] = [value];
  while (stack.length) {
    const current = stack.pop()!;
    if (typeof current === 'string') yield current;
    else if (Array.isArray(current)) for (const item of current) stack.push(item);
    else if (current && typeof current === 'object') for (const item of Object.values(current)) stack.push(item);
  }
}

const commandText = (value: Json | undefined): string | undefined =>
  typeof value === 'string'
    ? value
    : Array.isArray(value)
      ? value.filter((v) => typeof v === 'string').join(' ')
      : undefined;

/**
 * JSON files: plain data unless they carry commands. Every string is read as a command line (curl | sh in
 * any config), VS Code tasks that run on folder open and devcontainer commands that run on the host are
 * reported; a VS Code or devcontainer file that cannot be parsed is not assessed.
 */
export function reviewJson(path: string, content: string): FileReview {
  const review = emptyReview();
  const executable = isVscodeTasks(path) || isDevcontainer(path);
  let document: Json;
  try {
    document = JSON.parse(stripJsonc(content)) as Json;
  } catch (error) {
    if (executable)
      review.notAssessed.push(notAssessed(path, `not valid JSON: ${(error as Error).message.slice(0, 120)}`));
    return review;
  }
  const analyser = new CommandAnalyser({ systemConfigAllowed: true });
  for (const value of strings(document)) {
    const lower = value.toLowerCase();
    if (!COMMAND_SIGNS.some((sign) => lower.includes(sign))) continue;
    for (const hit of analyser.line(value)) review.findings.push(artifactFinding(hit.rule, path, 1, hit.message));
  }
  const root = document && typeof document === 'object' && !Array.isArray(document) ? document : {};
  if (isVscodeTasks(path) && Array.isArray(root.tasks)) {
    for (const task of root.tasks) {
      if (!task || typeof task !== 'object' || Array.isArray(task)) continue;
      const runOn = (task.runOptions as { runOn?: unknown } | undefined)?.runOn;
      if (runOn === 'folderOpen')
        review.findings.push(
          artifactFinding(
            JSON_RULES.autoRunTask,
            path,
            1,
            `task runs "${String(commandText(task.command) ?? '').slice(0, 120)}" when the folder is opened`,
          ),
        );
    }
  }
  if (isDevcontainer(path) && root.initializeCommand !== undefined)
    review.findings.push(
      artifactFinding(
        JSON_RULES.hostCommand,
        path,
        1,
        `initializeCommand runs on the host: ${String(commandText(root.initializeCommand) ?? '').slice(0, 120)}`,
      ),
    );
  return review;
}
