import { parse as parseYaml } from 'yaml';
import type { CheckContext, CheckOutcome, Hit } from './ast';
import { globToRegExp } from './glob';
import { CustomRulesFile, type CustomRule } from './schema';

export const MAX_CUSTOM_RULES_BYTES = 256 * 1024;
// Longer lines are cut before tenant patterns run on them: matching time stays bounded.
const MAX_LINE = 2000;

export type ParsedCustomRules = { ok: true; file: CustomRulesFile } | { ok: false; errors: string[] };

/** Parses a tenant's rules file, JSON or YAML, and validates it; errors name the field. */
export function parseCustomRules(text: string): ParsedCustomRules {
  if (Buffer.byteLength(text) > MAX_CUSTOM_RULES_BYTES)
    return { ok: false, errors: [`file is larger than ${MAX_CUSTOM_RULES_BYTES} bytes`] };
  let data: unknown;
  try {
    // YAML 1.2 is a superset of JSON; alias expansion is capped against "billion laughs" documents.
    data = parseYaml(text, { maxAliasCount: 50, prettyErrors: false });
  } catch (error) {
    return {
      ok: false,
      errors: [`not valid JSON or YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`],
    };
  }
  const parsed = CustomRulesFile.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    };
  }
  return { ok: true, file: parsed.data };
}

/** Runs a `match` rule: the pattern on each line of the files it applies to. */
export function evaluatePatternRule(ctx: CheckContext, rule: CustomRule): CheckOutcome {
  const match = rule.match!;
  const globs = (match.files ?? ['**']).map(globToRegExp);
  const pattern = new RegExp(match.pattern, (match.flags ?? '').replace(/[gy]/g, ''));
  const unless = match.unless ? new RegExp(match.unless, 'm') : undefined;
  const appliesIf = match.appliesIf ? new RegExp(match.appliesIf, 'm') : undefined;
  const hits: Hit[] = [];
  let applicable = false;
  for (const file of ctx.files) {
    if (!globs.some((glob) => glob.test(file.path))) continue;
    if (appliesIf && !appliesIf.test(file.content)) continue;
    applicable = true;
    if (unless?.test(file.content)) continue;
    file.content.split('\n').forEach((line, index) => {
      if (pattern.test(line.slice(0, MAX_LINE))) hits.push({ path: file.path, line: index + 1, message: rule.title });
    });
  }
  return { applicable, hits };
}
