import type { Finding } from '../../contracts/validation';
import { commandWords, splitCommands } from './commands';
import { artifactFinding, type ArtifactRule } from './rule';
import { isSecretName } from './secret-names';
import type { YamlDoc, YamlNode } from './yaml-doc';

export const CI_RULES = {
  pwnRequest: {
    id: 'ci/untrusted-checkout',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-829'],
    remediation:
      'Never check out the pull request head in pull_request_target or workflow_run jobs: they run with secrets and a write token. Use pull_request.',
  },
  scriptInjection: {
    id: 'ci/script-injection',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-78', 'CWE-94'],
    remediation:
      'Pass untrusted values through env: (env: TITLE: ${{ github.event.issue.title }}) and use "$TITLE" in the script.',
  },
  secretEcho: {
    id: 'ci/secret-echoed',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-532'],
    remediation: 'Never print secrets: pass them to the tool that needs them through its environment.',
  },
  writeAll: {
    id: 'ci/write-all-permissions',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Grant the workflow token only the permissions it needs (permissions: contents: read).',
  },
} as const satisfies Record<string, ArtifactRule>;

export const isGithubWorkflow = (path: string) => /(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(path);
export const isGitlabCi = (path: string) => /(^|\/)\.gitlab-ci\.ya?ml$/.test(path);

/** Expressions `${{ … }}` in a text, found with indexOf (linear). */
function expressions(text: string): string[] {
  const found: string[] = [];
  for (let at = text.indexOf('${{'); at !== -1;) {
    const end = text.indexOf('}}', at + 3);
    if (end === -1) break;
    found.push(text.slice(at + 3, end).trim());
    at = text.indexOf('${{', end + 2); // expressions do not nest: each character is read once
  }
  return found;
}

// Event fields an outsider cannot shape into code: numbers, ids, hashes, timestamps, flags.
const SAFE_EVENT_FIELDS = new Set([
  'number',
  'id',
  'sha',
  'node_id',
  'run_id',
  'run_number',
  'run_attempt',
  'created_at',
  'updated_at',
  'merged',
  'draft',
  'additions',
  'deletions',
  'commits',
  'changed_files',
  'size',
]);
const PATH_CHARS = /[\w.-]/;

/** Values an outsider controls: the event payload (titles, bodies, branch names…) and the head ref. */
function isUntrusted(expression: string): boolean {
  if (/\bgithub\.head_ref\b/.test(expression)) return true;
  let at = expression.indexOf('github.event.');
  while (at !== -1) {
    let end = at + 'github.event.'.length;
    while (end < expression.length && PATH_CHARS.test(expression[end]!)) end++;
    const field = expression.slice(at, end).split('.').at(-1) ?? '';
    if (!SAFE_EVENT_FIELDS.has(field)) return true;
    at = expression.indexOf('github.event.', end); // past the path just read: linear
  }
  return false;
}

/** `echo`/`printf` of a secret expression or of a variable that holds a secret. */
function echoesSecret(script: string, secretVariables: Set<string>): boolean {
  for (const stages of splitCommands(script)) {
    for (const stage of stages) {
      const words = commandWords(stage);
      if (!['echo', 'printf'].includes(words[0] ?? '')) continue;
      if (stage.includes('secrets.')) return true;
      for (let at = stage.indexOf('$'); at !== -1; at = stage.indexOf('$', at + 1)) {
        let i = at + 1;
        if (stage[i] === '{') i++;
        const start = i;
        while (i < stage.length && /[A-Za-z0-9_]/.test(stage[i]!)) i++;
        const name = stage.slice(start, i);
        if (name && (secretVariables.has(name) || isSecretName(name) || name === 'CI_JOB_TOKEN')) return true;
      }
    }
  }
  return false;
}

function triggers(y: YamlDoc): Set<string> {
  const on = y.get(y.root, 'on') ?? y.get(y.root, 'true');
  const single = y.text(on);
  if (single) return new Set([single]);
  const listed = y
    .items(on)
    .map((item) => y.text(item))
    .filter((item): item is string => !!item);
  return new Set([...listed, ...y.entries(on).map(([key]) => key)]);
}

/** Names of env variables set from `${{ secrets.* }}` at workflow, job or step level. */
function secretEnv(y: YamlDoc, ...scopes: YamlNode[]): Set<string> {
  const names = new Set<string>();
  for (const scope of scopes)
    for (const [name, value] of y.entries(y.get(scope, 'env')))
      if (y.text(value)?.includes('secrets.')) names.add(name);
  return names;
}

/** A GitHub Actions workflow: pull_request_target checkouts, script injection, secrets printed, write-all. */
export function reviewGithubWorkflow(y: YamlDoc, path: string): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: ArtifactRule, node: YamlNode, message: string) =>
    findings.push(artifactFinding(rule, path, y.line(node), message));
  const on = triggers(y);
  const privileged = ['pull_request_target', 'workflow_run'].filter((trigger) => on.has(trigger));
  const workflowPermissions = y.get(y.root, 'permissions');
  if (y.text(workflowPermissions) === 'write-all')
    add(CI_RULES.writeAll, workflowPermissions, 'the workflow token has write-all permissions');
  for (const [jobName, job] of y.entries(y.get(y.root, 'jobs'))) {
    const jobPermissions = y.get(job, 'permissions');
    if (y.text(jobPermissions) === 'write-all')
      add(CI_RULES.writeAll, jobPermissions, `job ${jobName} has write-all permissions`);
    for (const step of y.items(y.get(job, 'steps'))) {
      const uses = y.text(y.get(step, 'uses')) ?? '';
      const ref = y.path(step, 'with', 'ref');
      const refText = y.text(ref) ?? '';
      if (
        privileged.length &&
        uses.startsWith('actions/checkout') &&
        /github\.(event\.(pull_request\.head|workflow_run\.head)|head_ref)|refs\/pull\//.test(refText)
      )
        add(
          CI_RULES.pwnRequest,
          ref,
          `job ${jobName} checks out untrusted pull request code (${refText}) on ${privileged.join('/')}`,
        );
      const scripts = [
        y.get(step, 'run'),
        uses.startsWith('actions/github-script') ? y.path(step, 'with', 'script') : undefined,
      ];
      for (const script of scripts) {
        const text = y.text(script);
        if (!text) continue;
        const untrusted = expressions(text).filter(isUntrusted);
        if (untrusted.length)
          add(
            CI_RULES.scriptInjection,
            script,
            `job ${jobName} interpolates \${{ ${untrusted[0]} }} into a script: its value becomes code`,
          );
        if (echoesSecret(text, secretEnv(y, y.root, job, step)))
          add(CI_RULES.secretEcho, script, `job ${jobName} prints a secret to the log`);
      }
    }
  }
  return findings;
}

/** GitLab CI: secrets printed by any script line (commands themselves are checked with every YAML string). */
export function reviewGitlabCi(y: YamlDoc, path: string): Finding[] {
  const findings: Finding[] = [];
  for (const [jobName, job] of y.entries(y.root)) {
    for (const key of ['before_script', 'script', 'after_script']) {
      const node = y.get(job, key);
      for (const line of [node, ...y.items(node)]) {
        const text = y.text(line);
        if (text && echoesSecret(text, new Set()))
          findings.push(
            artifactFinding(CI_RULES.secretEcho, path, y.line(line), `job ${jobName} prints a secret to the log`),
          );
      }
    }
  }
  return findings;
}
