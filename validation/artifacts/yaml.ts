import { reviewGithubWorkflow, reviewGitlabCi, isGithubWorkflow, isGitlabCi } from './ci';
import { CommandAnalyser } from './commands';
import { isComposeDoc, isKubernetesDoc, reviewCompose, reviewKubernetes } from './kubernetes';
import { artifactFinding, emptyReview, notAssessed, type ArtifactRule, type FileReview } from './rule';
import { parseYaml } from './yaml-doc';

export const INVALID_YAML: ArtifactRule = {
  id: 'yaml/invalid',
  severity: 'medium',
  category: 'quality',
  remediation:
    'Fix the YAML: tools read an invalid or ambiguous file (duplicate keys) differently, so it cannot be judged.',
};

/** Strings worth reading as commands: cheap substring tests before the command analyser runs. */
const COMMAND_SIGNS = ['curl', 'wget', 'insecure', 'no-check-certificate', 'tls_reject', 'ssl', 'chmod', 'iwr', 'irm'];

/**
 * A YAML file: Kubernetes, Compose and CI rules by what each document is, plus every string in it read
 * as a command line (container commands, CI scripts) for download-and-execute and TLS switched off.
 */
export function reviewYaml(path: string, content: string): FileReview {
  const review = emptyReview();
  const parsed = parseYaml(content);
  if ('error' in parsed) {
    review.findings.push(
      artifactFinding(INVALID_YAML, path, parsed.line, `YAML that cannot be read: ${parsed.error.slice(0, 160)}`),
    );
    review.notAssessed.push(
      notAssessed(path, `YAML parse error at line ${parsed.line}: ${parsed.error.slice(0, 160)}`),
    );
    return review;
  }
  const analyser = new CommandAnalyser({ systemConfigAllowed: true });
  for (const y of parsed.docs) {
    if (isGithubWorkflow(path)) review.findings.push(...reviewGithubWorkflow(y, path));
    else if (isGitlabCi(path)) review.findings.push(...reviewGitlabCi(y, path));
    else if (isKubernetesDoc(y)) review.findings.push(...reviewKubernetes(y, path));
    else if (isComposeDoc(y)) review.findings.push(...reviewCompose(y, path));
    for (const { value, line } of y.strings()) {
      const lower = value.toLowerCase();
      if (!COMMAND_SIGNS.some((sign) => lower.includes(sign))) continue;
      for (const hit of analyser.line(value)) review.findings.push(artifactFinding(hit.rule, path, line, hit.message));
    }
  }
  return review;
}
