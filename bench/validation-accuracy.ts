import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { findExecutable } from '../validation/static/semgrep';
import { CHECKS } from '../validation/compliance/checks';
import {
  complianceDetector,
  evaluate,
  loadCorpus,
  reviewDetector,
  semgrepDetector,
  SEMGREP_CATEGORIES,
  type CorpusEvaluation,
} from './validation-corpus';

// Prints recall and false-positive rate per category on the labelled corpus (test/fixtures/validation)
// and saves them to bench/results/validation-accuracy.json. Run: npx tsx bench/validation-accuracy.ts

const percent = (value: number | null) => (value === null ? '   n/a' : `${(value * 100).toFixed(1).padStart(5)}%`);

function print(evaluation: CorpusEvaluation): void {
  console.log(`\n${evaluation.detector} — ${evaluation.files} files`);
  console.log(
    `${'category'.padEnd(30)} ${'pos'.padStart(4)} ${'TP'.padStart(4)} ${'recall'.padStart(7)} ${'neg'.padStart(4)} ${'FP'.padStart(4)} ${'FPR'.padStart(7)}`,
  );
  for (const s of evaluation.categories) {
    console.log(
      `${s.category.padEnd(30)} ${String(s.positives).padStart(4)} ${String(s.truePositives).padStart(4)} ${percent(s.recall).padStart(7)} ${String(s.negatives).padStart(4)} ${String(s.falsePositives).padStart(4)} ${percent(s.falsePositiveRate).padStart(7)}`,
    );
  }
  console.log(
    `${'all categories'.padEnd(30)} ${''.padStart(9)} ${percent(evaluation.overall.recall).padStart(7)} ${''.padStart(9)} ${percent(evaluation.overall.falsePositiveRate).padStart(7)}`,
  );
  for (const outcome of evaluation.outcomes.filter((o) => o.missed.length || o.unexpected.length)) {
    console.log(
      `  ${outcome.file}: missed [${outcome.missed.join(', ')}] unexpected [${outcome.unexpected.join(', ')}]`,
    );
  }
}

async function main(): Promise<void> {
  const corpus = await loadCorpus();
  const started = performance.now();
  const results: CorpusEvaluation[] = [
    await evaluate(corpus, reviewDetector, 'review: compliance checks (layer 3) + data-flow analysis (layer 1)'),
    await evaluate(corpus, complianceDetector, 'compliance checks (layer 3) alone', [...CHECKS.keys()]),
  ];
  const semgrep = process.env.SEMGREP_PATH ?? (await findExecutable('semgrep'));
  if (semgrep) {
    const categories = [...new Set(Object.values(SEMGREP_CATEGORIES))];
    results.push(
      await evaluate(corpus, semgrepDetector({ executable: semgrep }), 'semgrep rules (layer 1)', categories),
    );
  } else {
    console.log('semgrep not on PATH: its table is not assessed');
  }
  results.forEach(print);
  const output = {
    generatedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    goal: { recall: 0.9, falsePositiveRate: 0.1 },
    semgrep: semgrep ? 'assessed' : 'not assessed (not on PATH)',
    results,
  };
  const file = join(__dirname, 'results', 'validation-accuracy.json');
  await mkdir(join(__dirname, 'results'), { recursive: true });
  // Formatted as the repository's Prettier settings want, so `npm run lint` stays clean after a run.
  await writeFile(file, await format(JSON.stringify(output), { ...(await resolveConfig(file)), parser: 'json' }));
  console.log('\nsaved bench/results/validation-accuracy.json');
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
