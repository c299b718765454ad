import { CommandAnalyser } from './commands';
import { artifactFinding, emptyReview, type ArtifactRule, type FileReview } from './rule';

export const GYP_RULES = {
  implicitInstall: {
    id: 'gyp/implicit-install-script',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-829'],
    remediation:
      'npm runs node-gyp rebuild on install when binding.gyp exists: ship native code only when it is needed.',
  },
  commandExpansion: {
    id: 'gyp/command-expansion',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-78', 'CWE-829'],
    remediation: 'Do not run commands from gyp files (<!(…), <!@(…)): list sources and flags literally.',
  },
} as const satisfies Record<string, ArtifactRule>;

export const isGypFile = (path: string) => /(^|\/)[^/]+\.gypi?$/.test(path);

/** gyp files: `binding.gyp` makes npm build at install; `<!(…)`/`<!@(…)` run commands while it does. */
export function reviewGyp(path: string, content: string): FileReview {
  const review = emptyReview();
  if (path === 'binding.gyp' || path.endsWith('/binding.gyp'))
    review.findings.push(
      artifactFinding(GYP_RULES.implicitInstall, path, 1, 'binding.gyp makes npm install run node-gyp rebuild'),
    );
  const analyser = new CommandAnalyser({ systemConfigAllowed: true });
  let line = 1;
  let counted = 0; // newlines are counted once, up to the last expansion seen
  for (let at = content.indexOf('<!'); at !== -1; at = content.indexOf('<!', at + 2)) {
    let start = at + 2;
    if (content[start] === '@') start++;
    if (content[start] !== '(') continue;
    let depth = 0;
    let end = start;
    for (; end < content.length; end++) {
      if (content[end] === '(') depth++;
      else if (content[end] === ')' && --depth === 0) break;
    }
    const command = content.slice(start + 1, end);
    for (; counted < at; counted++) if (content[counted] === '\n') line++;
    review.findings.push(
      artifactFinding(
        GYP_RULES.commandExpansion,
        path,
        line,
        `runs a command while building: ${command.slice(0, 120)}`,
      ),
    );
    for (const hit of analyser.line(command)) review.findings.push(artifactFinding(hit.rule, path, line, hit.message));
    at = end;
  }
  return review;
}
