import type { ArtifactRule } from './rule';

// Rules over shell command lines, shared by shell scripts, Dockerfile RUN lines, CI steps and package.json
// scripts. Everything here is a linear scan (split, indexOf, loops): command text is untrusted input.

export const COMMAND_RULES = {
  downloadExec: {
    id: 'download-exec',
    severity: 'critical',
    category: 'security',
    cwe: ['CWE-494', 'CWE-829'],
    remediation:
      'Do not run code fetched at run time: install a pinned package, or download to a file, verify its checksum or signature, then run it.',
  },
  tlsDisabled: {
    id: 'tls-verification-disabled',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-295'],
    remediation: 'Keep certificate verification on; trust a private CA explicitly (--cacert, NODE_EXTRA_CA_CERTS).',
  },
  worldWritable: {
    id: 'world-writable',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-732'],
    remediation: 'Grant the least permission needed (755 for executables, 644 for files), never write for others.',
  },
  writesEtc: {
    id: 'writes-system-config',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Keep project scripts inside the project; system configuration belongs to the image or the operator.',
  },
} as const satisfies Record<string, ArtifactRule>;

export interface CommandHit {
  rule: ArtifactRule;
  message: string;
}

const DOWNLOADERS = new Set([
  'curl',
  'wget',
  'fetch',
  'aria2c',
  'iwr',
  'irm',
  'invoke-webrequest',
  'invoke-restmethod',
]);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'fish', 'busybox', 'source', '.']);
const INTERPRETERS = new Set([
  'node',
  'nodejs',
  'perl',
  'ruby',
  'php',
  'pwsh',
  'powershell',
  'iex',
  'invoke-expression',
]);
const PREFIXES = new Set(['sudo', 'env', 'exec', 'command', 'nohup', 'time', 'nice', 'doas']);
const VERIFIERS = ['sha256sum', 'sha512sum', 'shasum', 'gpg', 'cosign', 'minisign', 'openssl dgst'];
const SUBSTITUTIONS = ['$(', '<(', '`'];
const TLS_SIGNS = ['curl', 'insecure', 'no-check-certificate', 'tls_reject', 'ssl', 'trusted-host'];
// Every rule below needs one of these in the line (or a file downloaded earlier).
const TRIGGERS = [
  ...DOWNLOADERS,
  'invoke-',
  'chmod',
  '/etc/',
  'insecure',
  'no-check-certificate',
  'tls_reject',
  'ssl',
  'trusted-host',
];

/** Strips quotes, parentheses and braces around a word, without a regex (words can be long). */
function bare(word: string): string {
  const edge = `'"\`(){}`;
  let start = 0;
  let end = word.length;
  while (start < end && edge.includes(word[start]!)) start++;
  while (end > start && edge.includes(word[end - 1]!)) end--;
  return word.slice(start, end);
}

const basename = (word: string) => word.slice(word.lastIndexOf('/') + 1).toLowerCase();
const wordsOf = (text: string) => text.split(/\s/).filter(Boolean).map(bare).filter(Boolean);

/** The command a stage runs: its words after sudo/env/exec and variable assignments. */
export function commandWords(stage: string): string[] {
  const words = wordsOf(stage);
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    const name = basename(word);
    if (PREFIXES.has(name) || (i > 0 && PREFIXES.has(basename(words[i - 1]!)) && word.startsWith('-'))) i++;
    else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) i++;
    else break;
  }
  return words.slice(i);
}

const isInterpreter = (name: string) =>
  SHELLS.has(name) || INTERPRETERS.has(name) || name.startsWith('python') || name.startsWith('bash');

// Options whose value is the next word (`bash -o pipefail`), and those that make stdin data, not code.
const VALUE_OPTIONS = new Set([
  '-o',
  '-O',
  '+o',
  '-I',
  '-W',
  '-X',
  '--rcfile',
  '--init-file',
  '-r',
  '--require',
  '--import',
]);
const CODE_ELSEWHERE = new Set(['-c', '-e', '-E', '-m', '-p', '--eval', '--print', '--check', '--version', '--help']);

/** Whether an interpreter command runs what arrives on stdin (`sh`, `bash -s`, `python -`), not a file or -c code. */
function runsStdin(words: string[]): boolean {
  const args = words.slice(1);
  if (args.includes('-') || args.includes('-s')) return true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (CODE_ELSEWHERE.has(arg)) return false;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-') && !arg.startsWith('+')) return false; // a script file: stdin is its data
  }
  return true;
}

/** Splits a command line into commands (`;`, `&&`, `||`, `&`, newlines), each a list of pipeline stages (`|`). */
export function splitCommands(line: string): string[][] {
  const commands: string[][] = [];
  let stages: string[] = [];
  let start = 0;
  const endStage = (at: number) => stages.push(line.slice(start, at).trim());
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '|') {
      endStage(i);
      if (line[i + 1] === '|') {
        commands.push(stages);
        stages = [];
        i++;
      } else if (line[i + 1] === '&') i++; // `|&` pipes stderr too
      start = i + 1;
    } else if (c === ';' || c === '\n' || (c === '&' && line[i - 1] !== '>' && line[i + 1] !== '>')) {
      endStage(i);
      commands.push(stages);
      stages = [];
      if (c === '&' && line[i + 1] === '&') i++;
      start = i + 1;
    }
  }
  endStage(line.length);
  commands.push(stages);
  return commands.map((stages) => stages.filter(Boolean)).filter((stages) => stages.length > 0);
}

/** `$(curl …)`, `<(wget …)` or a backquoted download inside a stage. */
function substitutesDownload(stage: string): boolean {
  const lower = stage.toLowerCase();
  for (const opener of SUBSTITUTIONS) {
    for (let at = lower.indexOf(opener); at !== -1;) {
      let i = at + opener.length;
      while (lower[i] === ' ' || lower[i] === '"') i++;
      if (lower.startsWith('curl', i) || lower.startsWith('wget', i)) return true;
      at = lower.indexOf(opener, Math.max(i, at + opener.length));
    }
  }
  return false;
}

/** The file a download command writes to (`-o f`, `-O f`, `--output f`, `--output-document=f`), if any. */
function downloadTarget(words: string[]): string | undefined {
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word === '-o' || word === '-O' || word === '--output' || word === '--output-document') {
      const next = words[i + 1];
      if (next && next !== '-') return basename(next);
    }
    const eq = word.startsWith('--output-document=') || word.startsWith('--output=') ? word.indexOf('=') : -1;
    if (eq > 0) return basename(word.slice(eq + 1));
  }
  return undefined;
}

function disablesTls(words: string[]): string | undefined {
  const name = basename(words[0] ?? '');
  for (const word of words) {
    const lower = word.toLowerCase();
    if (name === 'curl' && (lower === '--insecure' || (/^-[a-z]+$/i.test(word) && word.includes('k'))))
      return 'curl -k/--insecure';
    if (lower === '--no-check-certificate') return `${name} --no-check-certificate`;
    if (lower.startsWith('node_tls_reject_unauthorized=0')) return 'NODE_TLS_REJECT_UNAUTHORIZED=0';
    if (lower.startsWith('git_ssl_no_verify=') && !lower.endsWith('=0') && !lower.endsWith('=false'))
      return 'GIT_SSL_NO_VERIFY';
    if (lower === 'http.sslverify=false' || lower === '--strict-ssl=false') return lower;
    if (lower === '--trusted-host') return 'pip --trusted-host';
  }
  const joined = words.join(' ').toLowerCase();
  if (joined.includes('strict-ssl false') || joined.includes('http.sslverify false')) return 'verification off';
  return undefined;
}

/** A numeric mode with the others-write bit, or a symbolic one giving `o`/`a` write. */
function worldWritableMode(words: string[]): string | undefined {
  if (basename(words[0] ?? '') !== 'chmod') return undefined;
  for (const word of words.slice(1)) {
    if (/^[0-7]{3,4}$/.test(word) && (Number(word.at(-1)) & 2) !== 0) return word;
    for (const clause of word.split(',')) {
      let i = 0;
      while (i < clause.length && 'ugoa'.includes(clause[i]!)) i++;
      const who = clause.slice(0, i);
      if ((clause[i] === '+' || clause[i] === '=') && /[oa]/.test(who) && clause.slice(i + 1).includes('w'))
        return word;
    }
  }
  return undefined;
}

function writesEtc(stage: string, words: string[]): boolean {
  for (let at = stage.indexOf('>'); at !== -1;) {
    let i = at + 1;
    while (stage[i] === '>' || stage[i] === ' ') i++;
    if (stage.startsWith('/etc/', i)) return true;
    at = stage.indexOf('>', i); // past the run just read: each character is looked at once
  }
  const name = basename(words[0] ?? '');
  const args = words.slice(1).filter((w) => !w.startsWith('-'));
  if (name === 'tee' || name === 'sed') return args.some((w) => w.startsWith('/etc/'));
  if (['cp', 'mv', 'install', 'ln', 'rsync'].includes(name)) return (args.at(-1) ?? '').startsWith('/etc/');
  return false;
}

export interface CommandOptions {
  /** Writing to /etc is a finding in project scripts, not while building an image. */
  systemConfigAllowed?: boolean;
}

/**
 * Reads the command lines of one file in order: download-and-execute (piped, substituted, or a downloaded
 * file run later without a checksum check), TLS verification off, world-writable modes, writes to /etc.
 */
export class CommandAnalyser {
  private readonly downloaded = new Set<string>();

  constructor(private readonly options: CommandOptions = {}) {}

  /** Cheap substring tests first: most lines name no downloader, chmod, /etc, TLS switch or downloaded file. */
  private mayHit(text: string): boolean {
    const lower = text.toLowerCase();
    return TRIGGERS.some((token) => lower.includes(token)) || [...this.downloaded].some((name) => lower.includes(name));
  }

  line(text: string): CommandHit[] {
    const hits: CommandHit[] = [];
    if (!this.mayHit(text)) return hits;
    const add = (rule: ArtifactRule, message: string) => {
      if (!hits.some((hit) => hit.rule === rule)) hits.push({ rule, message });
    };
    for (const stages of splitCommands(text)) {
      const words = stages.map(commandWords);
      const firstDownload = words.findIndex((w) => DOWNLOADERS.has(basename(w[0] ?? '')));
      const piped =
        firstDownload >= 0 &&
        words.slice(firstDownload + 1).find((w) => isInterpreter(basename(w[0] ?? '')) && runsStdin(w));
      if (piped) add(COMMAND_RULES.downloadExec, `pipes a download into ${basename(piped[0]!)}`);
      stages.forEach((stage, index) => {
        const command = words[index]!;
        const name = basename(command[0] ?? '');
        if ((isInterpreter(name) || name === 'eval') && substitutesDownload(stage))
          add(COMMAND_RULES.downloadExec, `runs the output of a download with ${name}`);
        if (DOWNLOADERS.has(name)) {
          const target = downloadTarget(command);
          if (target) this.downloaded.add(target);
        }
        if (VERIFIERS.some((verifier) => stage.includes(verifier))) this.downloaded.clear();
        const runsDownloaded =
          this.downloaded.has(name) ||
          (isInterpreter(name) && command.slice(1).some((w) => !w.startsWith('-') && this.downloaded.has(basename(w))));
        if (runsDownloaded) add(COMMAND_RULES.downloadExec, 'runs a downloaded file without verifying a checksum');
        const lower = stage.toLowerCase();
        const tls = TLS_SIGNS.some((sign) => lower.includes(sign)) ? disablesTls(command) : undefined;
        if (tls) add(COMMAND_RULES.tlsDisabled, `turns TLS certificate verification off (${tls})`);
        const mode = lower.includes('chmod') ? worldWritableMode(command) : undefined;
        if (mode) add(COMMAND_RULES.worldWritable, `chmod ${mode} makes files writable by every user`);
        if (!this.options.systemConfigAllowed && lower.includes('/etc/') && writesEtc(stage, command))
          add(COMMAND_RULES.writesEtc, 'writes to /etc: changes the system configuration of whoever runs it');
      });
    }
    return hits;
  }
}
