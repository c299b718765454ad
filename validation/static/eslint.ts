import { Linter } from 'eslint';
import security from 'eslint-plugin-security';
import tseslint from 'typescript-eslint';
import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';
import { isCodeFile, scannableFiles, type Project } from '../project';

interface RuleMeta {
  severity: Severity;
  category: 'security' | 'quality';
  cwe?: string;
  remediation: string;
}

/**
 * The rules run on generated code, with what each finding costs. Security rules come from
 * eslint-plugin-security and ESLint core; detect-object-injection and detect-non-literal-fs-filename
 * are left out: they fire on most ordinary code and would drown real findings.
 */
export const ESLINT_RULES: Record<string, RuleMeta> = {
  'no-eval': { severity: 'high', category: 'security', cwe: 'CWE-95', remediation: 'Do not evaluate strings as code.' },
  'no-implied-eval': {
    severity: 'high',
    category: 'security',
    cwe: 'CWE-95',
    remediation: 'Pass functions, not strings, to setTimeout/setInterval.',
  },
  'no-new-func': {
    severity: 'high',
    category: 'security',
    cwe: 'CWE-95',
    remediation: 'Do not build functions from strings.',
  },
  'security/detect-eval-with-expression': {
    severity: 'high',
    category: 'security',
    cwe: 'CWE-95',
    remediation: 'Never pass data to eval.',
  },
  'security/detect-child-process': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-78',
    remediation: 'Use execFile/spawn with an argument array and no shell; never interpolate input into a command.',
  },
  'security/detect-non-literal-require': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-706',
    remediation: 'Require modules by literal name.',
  },
  'security/detect-non-literal-regexp': {
    severity: 'low',
    category: 'security',
    cwe: 'CWE-1333',
    remediation: 'Build regular expressions from literals or escape input first.',
  },
  'security/detect-unsafe-regex': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-1333',
    remediation: 'Rewrite the expression without nested quantifiers (ReDoS).',
  },
  'security/detect-pseudoRandomBytes': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-338',
    remediation: 'Use crypto.randomBytes.',
  },
  'security/detect-possible-timing-attacks': {
    severity: 'low',
    category: 'security',
    cwe: 'CWE-208',
    remediation: 'Compare secrets with crypto.timingSafeEqual.',
  },
  'security/detect-no-csrf-before-method-override': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-352',
    remediation: 'Register CSRF protection before methodOverride.',
  },
  'security/detect-buffer-noassert': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-119',
    remediation: 'Do not disable buffer bounds checks.',
  },
  'security/detect-new-buffer': {
    severity: 'medium',
    category: 'security',
    cwe: 'CWE-908',
    remediation: 'Use Buffer.from or Buffer.alloc.',
  },
  'security/detect-disable-mustache-escape': {
    severity: 'high',
    category: 'security',
    cwe: 'CWE-79',
    remediation: 'Keep template escaping on.',
  },
  'security/detect-bidi-characters': {
    severity: 'high',
    category: 'security',
    cwe: 'CWE-451',
    remediation: 'Remove bidirectional control characters (Trojan Source).',
  },
  'no-debugger': { severity: 'low', category: 'quality', remediation: 'Remove debugger statements.' },
  'no-unreachable': { severity: 'low', category: 'quality', remediation: 'Remove unreachable code.' },
  'no-dupe-keys': { severity: 'medium', category: 'quality', remediation: 'Remove the duplicate key.' },
  'no-self-compare': { severity: 'low', category: 'quality', remediation: 'Compare against the intended value.' },
  'no-constant-condition': {
    severity: 'low',
    category: 'quality',
    remediation: 'Remove or fix the constant condition.',
  },
  'no-empty': { severity: 'low', category: 'quality', remediation: 'Handle the case or explain why it is empty.' },
  'no-fallthrough': { severity: 'low', category: 'quality', remediation: 'End each case with break or return.' },
  eqeqeq: { severity: 'low', category: 'quality', remediation: 'Use === and !==.' },
  'no-var': { severity: 'info', category: 'quality', remediation: 'Use let or const.' },
};

const CONFIG: Linter.Config[] = [
  {
    files: ['**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'],
    languageOptions: {
      parser: tseslint.parser as Linter.Parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    plugins: { security },
    // Generated code may not configure or switch off its own lint: inline comments are ignored (and reported by suppressions.ts).
    linterOptions: { noInlineConfig: true, reportUnusedDisableDirectives: 'off' },
    rules: {
      ...Object.fromEntries(Object.keys(ESLINT_RULES).map((rule) => [rule, 'error'])),
      // `x == null` (null or undefined) is a common, deliberate idiom, not a defect.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
];

/** Lints every JavaScript/TypeScript file in memory; inline `eslint-disable` comments are ignored (generated code is untrusted). */
export function lintProject(project: Project): {
  filesLinted: number;
  findings: Finding[];
  parseErrors: number;
  /** Files ESLint could not parse: not assessed by it. */
  unparsed: { path: string; reason: string }[];
} {
  const linter = new Linter({ configType: 'flat', cwd: '/' });
  const findings: Finding[] = [];
  const unparsed: { path: string; reason: string }[] = [];
  let filesLinted = 0;
  let parseErrors = 0;
  for (const file of scannableFiles(project).filter((f) => isCodeFile(f.path))) {
    filesLinted++;
    for (const message of linter.verify(file.content, CONFIG, { filename: `/${file.path}` })) {
      const meta = message.ruleId ? ESLINT_RULES[message.ruleId] : undefined;
      if (!meta) {
        // Other messages without a rule (e.g. ignored inline directives) say nothing about the code.
        if (!message.fatal) continue;
        // A parse error: the file could not be analysed, which is a quality finding in itself.
        parseErrors++;
        unparsed.push({ path: file.path, reason: `ESLint could not parse it: ${message.message}` });
        findings.push(
          finding({
            ruleId: 'eslint/parse-error',
            tool: 'eslint',
            category: 'quality',
            severity: 'medium',
            message: `File could not be parsed: ${message.message}`,
            location: { path: file.path, line: message.line || 1, column: message.column || 1 },
            remediation: 'Fix the syntax error.',
          }),
        );
        continue;
      }
      findings.push(
        finding({
          ruleId: `eslint/${message.ruleId}`,
          tool: 'eslint',
          category: meta.category,
          severity: meta.severity,
          message: message.message,
          location: { path: file.path, line: message.line, column: message.column },
          cwe: meta.cwe ? [meta.cwe] : undefined,
          remediation: meta.remediation,
        }),
      );
    }
  }
  return { filesLinted, findings, parseErrors, unparsed };
}
