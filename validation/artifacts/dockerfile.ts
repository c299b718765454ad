import { CommandAnalyser, commandWords, splitCommands } from './commands';
import { artifactFinding, emptyReview, type ArtifactRule, type FileReview } from './rule';
import { isSecretName } from './secret-names';

export const DOCKER_RULES = {
  rootUser: {
    id: 'docker/runs-as-root',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'End the final stage with USER set to an unprivileged user (e.g. USER node, or a numeric uid).',
  },
  unpinnedImage: {
    id: 'docker/unpinned-base-image',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-1104'],
    remediation: 'Pin the base image to a version tag, better a digest (image:1.2.3@sha256:…).',
  },
  secretInEnv: {
    id: 'docker/secret-in-env',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-798'],
    remediation:
      'Never bake secrets into the image: pass them at run time, or use RUN --mount=type=secret while building.',
  },
  secretBuildArg: {
    id: 'docker/secret-build-arg',
    severity: 'low',
    category: 'security',
    cwe: ['CWE-214'],
    remediation: 'Build arguments are visible in the image history: use RUN --mount=type=secret for secrets.',
  },
  remoteAdd: {
    id: 'docker/remote-add',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-494'],
    remediation: 'Download with a checksum check (ADD --checksum=sha256:…), or COPY files from the build context.',
  },
  insecureBuild: {
    id: 'docker/insecure-build',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Build without RUN --security=insecure: it gives the build step full privileges on the builder.',
  },
  privilegedHint: {
    id: 'docker/privileged-hint',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Design the image to run unprivileged: no --privileged, added capabilities or Docker socket.',
  },
  aptRecommends: {
    id: 'docker/apt-install-recommends',
    severity: 'low',
    category: 'quality',
    remediation: 'Use apt-get install --no-install-recommends to keep the image small and its attack surface low.',
  },
} as const satisfies Record<string, ArtifactRule>;

/** Dockerfile, Containerfile, Dockerfile.prod, api.Dockerfile. */
export const isDockerfile = (path: string) => {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  return /^(dockerfile|containerfile)([.-][\w.-]+)?$/.test(name) || name.endsWith('.dockerfile');
};

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with their continuation lines joined; comment lines inside a continuation dropped, as Docker does. */
export function instructions(content: string): Instruction[] {
  const result: Instruction[] = [];
  let parts: string[] = [];
  let start = 1;
  content.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (parts.length === 0 && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (parts.length > 0 && trimmed.startsWith('#')) return;
    if (parts.length === 0) start = index + 1;
    const continued = trimmed.endsWith('\\');
    parts.push(continued ? trimmed.slice(0, -1) : trimmed);
    if (continued) return;
    const text = parts.join(' ');
    parts = [];
    const space = text.search(/\s/);
    result.push({
      keyword: (space < 0 ? text : text.slice(0, space)).toUpperCase(),
      args: space < 0 ? '' : text.slice(space + 1).trim(),
      line: start,
    });
  });
  if (parts.length)
    result.push({ keyword: parts[0]!.split(/\s/)[0]!.toUpperCase(), args: parts.join(' '), line: start });
  return result;
}

/** `latest`, `untagged` or undefined for a pinned image reference. */
export function imagePinning(image: string): 'latest' | 'untagged' | undefined {
  if (image.includes('@')) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  if (colon < 0) return 'untagged';
  return last.slice(colon + 1).toLowerCase() === 'latest' ? 'latest' : undefined;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

/** `KEY=value KEY2="v"` or the legacy `KEY value` form of ENV and ARG (one pass over the text). */
function assignments(args: string): { key: string; value: string | undefined }[] {
  const first = args.split(/\s/)[0] ?? '';
  if (!first.includes('=')) return [{ key: first, value: args.slice(first.length).trim() || undefined }];
  const result: { key: string; value: string | undefined }[] = [];
  let i = 0;
  while (i < args.length) {
    while (isSpace(args[i])) i++;
    const keyStart = i;
    while (i < args.length && !isSpace(args[i]) && args[i] !== '=') i++;
    const key = args.slice(keyStart, i);
    if (args[i] !== '=') {
      if (key) result.push({ key, value: undefined });
      continue;
    }
    i++;
    const quote = args[i] === '"' || args[i] === "'" ? args[i] : undefined;
    const valueStart = quote ? ++i : i;
    while (i < args.length && (quote ? args[i] !== quote : !isSpace(args[i]))) i++;
    result.push({ key, value: args.slice(valueStart, i) });
    if (quote) i++;
  }
  return result;
}

const isLiteral = (value: string | undefined) => !!value && !value.startsWith('$');

const PRIVILEGED_HINTS = ['--privileged', '--cap-add=sys_admin', '--cap-add sys_admin', '--cap-add=all', 'docker.sock'];

/** A Dockerfile, by rules (hadolint is not in Debian): user, base images, secrets, remote ADD, RUN commands. */
export function reviewDockerfile(path: string, content: string): FileReview {
  const review = emptyReview();
  const add = (rule: ArtifactRule, line: number, message: string) =>
    review.findings.push(artifactFinding(rule, path, line, message));
  const analyser = new CommandAnalyser({ systemConfigAllowed: true });
  const stages = new Set<string>();
  let finalStage: { line: number; user?: { name: string; line: number }; nonRootBase: boolean } | undefined;

  content.split('\n').forEach((line, index) => {
    const lower = line.toLowerCase();
    const hint = PRIVILEGED_HINTS.find((token) => lower.includes(token));
    if (hint) add(DOCKER_RULES.privilegedHint, index + 1, `mentions ${hint}: the image expects to run privileged`);
  });

  for (const { keyword, args, line } of instructions(content)) {
    const words = args.split(/\s+/).filter(Boolean);
    if (keyword === 'FROM') {
      const [image = '', as, alias] = words.filter((word) => !word.startsWith('--'));
      if (as?.toLowerCase() === 'as' && alias) stages.add(alias.toLowerCase());
      finalStage = { line, nonRootBase: /nonroot|rootless/i.test(image) };
      const known = image.toLowerCase() === 'scratch' || image.includes('$') || stages.has(image.toLowerCase());
      const pinning = known ? undefined : imagePinning(image);
      if (pinning)
        add(
          DOCKER_RULES.unpinnedImage,
          line,
          `base image ${image} is ${pinning === 'latest' ? 'tagged latest' : 'not tagged'}: builds are not reproducible`,
        );
    } else if (keyword === 'USER' && finalStage) {
      finalStage.user = { name: words[0] ?? '', line };
    } else if (keyword === 'ENV' || keyword === 'ARG') {
      for (const { key, value } of assignments(args)) {
        if (!isSecretName(key)) continue;
        if (isLiteral(value))
          add(
            DOCKER_RULES.secretInEnv,
            line,
            `${keyword} ${key} holds a literal secret (value redacted) that ships in every layer`,
          );
        else if (keyword === 'ARG' && value === undefined)
          add(DOCKER_RULES.secretBuildArg, line, `ARG ${key} passes a secret as a build argument`);
      }
    } else if (keyword === 'ADD') {
      const remote = words.find((word) => /^(https?:\/\/|git@)/i.test(word));
      if (remote && !words.some((word) => word.startsWith('--checksum=')))
        add(DOCKER_RULES.remoteAdd, line, `ADD fetches ${remote.slice(0, 120)} without a checksum`);
    } else if (keyword === 'RUN') {
      if (words.some((word) => word.toLowerCase() === '--security=insecure'))
        add(DOCKER_RULES.insecureBuild, line, 'RUN --security=insecure runs a build step with full privileges');
      for (const hit of analyser.line(args)) add(hit.rule, line, `RUN ${hit.message}`);
      for (const stages of splitCommands(args)) {
        for (const stage of stages) {
          const command = commandWords(stage);
          if (command[0] === 'apt-get' && command.includes('install') && !command.includes('--no-install-recommends'))
            add(DOCKER_RULES.aptRecommends, line, 'apt-get install without --no-install-recommends');
        }
      }
    }
  }
  if (finalStage && !finalStage.nonRootBase) {
    const user = finalStage.user;
    const name = user?.name.split(':')[0]?.toLowerCase();
    if (!user) add(DOCKER_RULES.rootUser, finalStage.line, 'the final stage sets no USER: the container runs as root');
    else if (name === 'root' || name === '0')
      add(DOCKER_RULES.rootUser, user.line, `the final stage runs as ${user.name}`);
  }
  return review;
}
