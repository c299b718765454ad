import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CHECKS } from '../validation/compliance/checks';
import { runCompliance } from '../validation/compliance/engine';
import { analyseDataflow, DATAFLOW_RULES } from '../validation/static/dataflow';
import { runSemgrep, type SemgrepOptions } from '../validation/static/semgrep';

export const CORPUS_DIR = join(__dirname, '..', 'test', 'fixtures', 'validation');

const Labels = z.object({
  files: z.array(z.object({ file: z.string(), projectPath: z.string(), expected: z.array(z.string()) })).min(1),
});

export interface CorpusFile {
  file: string;
  projectPath: string;
  expected: string[];
  content: string;
}

/** Every category a label may name: the compliance checks' ids and the data-flow classes of layer 1. */
export const CATEGORIES = [
  ...new Set([...CHECKS.keys(), ...Object.values(DATAFLOW_RULES).map((rule) => rule.category)]),
];

export async function loadCorpus(dir = CORPUS_DIR): Promise<CorpusFile[]> {
  const labels = Labels.parse(JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')));
  for (const entry of labels.files) {
    const unknown = entry.expected.filter((category) => !CATEGORIES.includes(category));
    if (unknown.length) throw new Error(`${entry.file}: unknown categories ${unknown.join(', ')}`);
  }
  return Promise.all(
    labels.files.map(async (entry) => ({ ...entry, content: await readFile(join(dir, entry.file), 'utf8') })),
  );
}

export interface CategoryScore {
  category: string;
  positives: number;
  truePositives: number;
  negatives: number;
  falsePositives: number;
  recall: number | null;
  falsePositiveRate: number | null;
}

export interface FileOutcome {
  file: string;
  expected: string[];
  detected: string[];
  missed: string[];
  unexpected: string[];
}

export interface CorpusEvaluation {
  detector: string;
  files: number;
  categories: CategoryScore[];
  overall: { recall: number | null; falsePositiveRate: number | null };
  outcomes: FileOutcome[];
}

/** Categories each file's one-file project triggers, per detector. */
export type Detector = (file: CorpusFile) => Promise<string[]>;

/** The compliance checks (layer 3), which secrets and dependency policy feed too. */
export const complianceDetector: Detector = async (file) => {
  const report = await runCompliance(
    { files: [{ path: file.projectPath, content: file.content }] },
    { intentId: 'bench' },
  );
  return [...new Set(report.findings.map((f) => f.ruleId.replace(/^compliance\//, '')))];
};

const projectOf = (file: CorpusFile) => ({ files: [{ path: file.projectPath, content: file.content }] });

/** The data-flow analysis of layer 1 (validation/static/dataflow) alone. */
export const dataflowDetector: Detector = async (file) => [
  ...new Set(
    analyseDataflow(projectOf(file)).findings.map(
      (f) => DATAFLOW_RULES[f.ruleId.replace(/^dataflow\//, '') as keyof typeof DATAFLOW_RULES].category,
    ),
  ),
];

/** What the review reports: the compliance checks (layer 3, with secrets and dependencies) and the data-flow analysis (layer 1). */
export const reviewDetector: Detector = async (file) => [
  ...new Set([...(await complianceDetector(file)), ...(await dataflowDetector(file))]),
];

const SEMGREP_CATEGORIES: Record<string, string> = {
  'qlp-sql-injection-template': 'sql-injection',
  'qlp-command-injection': 'command-injection',
  'qlp-tls-verification-disabled': 'tls-verification-disabled',
  'qlp-weak-password-hash': 'weak-password-hash',
  'qlp-weak-cipher': 'weak-cryptography',
  'qlp-insecure-random-token': 'insecure-randomness',
  'qlp-cors-credentials-wildcard': 'permissive-cors-credentials',
  'qlp-jwt-none-algorithm': 'weak-jwt-verification',
  'qlp-cleartext-http-request': 'cleartext-transmission',
  'qlp-cleartext-http-options': 'cleartext-transmission',
  'qlp-eval-injection': 'code-injection',
  'qlp-code-injection-taint': 'code-injection',
  'qlp-path-traversal': 'path-traversal',
  'qlp-open-redirect': 'open-redirect',
  'qlp-xss-response': 'xss',
  'qlp-ssrf': 'ssrf',
  'qlp-prototype-pollution-merge': 'prototype-pollution',
  'qlp-prototype-pollution-keys': 'prototype-pollution',
  'qlp-template-injection': 'template-injection',
  'qlp-command-injection-taint': 'command-injection',
  'qlp-hardcoded-credential-compare': 'hardcoded-secret',
  'qlp-weak-signing-key': 'hardcoded-secret',
};

/** semgrep with the repository's rules alone (layer 1), mapped onto the same categories. */
export function semgrepDetector(options: SemgrepOptions): Detector {
  return async (file) => {
    const run = await runSemgrep({ files: [{ path: file.projectPath, content: file.content }] }, options);
    if (run.status !== 'completed') throw new Error(run.reason);
    return [
      ...new Set(
        run.findings.map((f) => SEMGREP_CATEGORIES[f.ruleId.replace(/^semgrep\//, '')]).filter((c): c is string => !!c),
      ),
    ];
  };
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((1000 * a) / b) / 1000);

/**
 * Recall per category: share of files labelled with it where it fired. False-positive rate: share of
 * files not labelled with it where it fired. `categories` limits the table to what a detector covers.
 */
export async function evaluate(
  corpus: CorpusFile[],
  detector: Detector,
  name: string,
  categories = CATEGORIES,
): Promise<CorpusEvaluation> {
  const outcomes: FileOutcome[] = [];
  for (const file of corpus) {
    const detected = (await detector(file)).filter((c) => categories.includes(c)).sort();
    const expected = file.expected.filter((c) => categories.includes(c));
    outcomes.push({
      file: file.file,
      expected,
      detected,
      missed: expected.filter((c) => !detected.includes(c)),
      unexpected: detected.filter((c) => !expected.includes(c)),
    });
  }
  const scores = categories.map((category) => {
    const positives = outcomes.filter((o) => o.expected.includes(category));
    const negatives = outcomes.filter((o) => !o.expected.includes(category));
    const truePositives = positives.filter((o) => o.detected.includes(category)).length;
    const falsePositives = negatives.filter((o) => o.detected.includes(category)).length;
    return {
      category,
      positives: positives.length,
      truePositives,
      negatives: negatives.length,
      falsePositives,
      recall: ratio(truePositives, positives.length),
      falsePositiveRate: ratio(falsePositives, negatives.length),
    };
  });
  const sum = (key: 'positives' | 'truePositives' | 'negatives' | 'falsePositives') =>
    scores.reduce((total, s) => total + s[key], 0);
  return {
    detector: name,
    files: corpus.length,
    categories: scores,
    overall: {
      recall: ratio(sum('truePositives'), sum('positives')),
      falsePositiveRate: ratio(sum('falsePositives'), sum('negatives')),
    },
    outcomes,
  };
}

export { SEMGREP_CATEGORIES };
