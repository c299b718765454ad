import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { runCompliance } from '../validation/compliance/engine';
import { analyseDataflow, DATAFLOW_RULES } from '../validation/static/dataflow';
import { findExecutable, runSemgrep } from '../validation/static/semgrep';
import { SEMGREP_CATEGORIES } from './validation-corpus';

// Recall and false positives on the independent corpus (test/fixtures/independent-corpus): files written
// from CWE descriptions by someone who never saw the detectors. A vulnerable case counts as found
// (strict) when a finding of its class is on one of its labelled sink lines, (lenient) anywhere in the
// file; a clean near-miss is a false positive when any finding of its class fires in it. Paths are
// neutral (`src/case-N.ts`): the corpus's file names say vuln/clean. Run: npx tsx bench/independent-corpus.ts

const DIR = join(__dirname, '..', 'test', 'fixtures', 'independent-corpus');
// A second corpus, written later by another author who also never saw the detectors, and never shown to
// whoever changed the detectors after the first measurement: the figure that was not tuned on.
const HOLDOUT_DIR = join(__dirname, '..', 'test', 'fixtures', 'holdout-corpus');

const Labels = z.object({
  cases: z.array(
    z.object({
      file: z.string(),
      cwe: z.string(),
      class: z.string(),
      vulnerable: z.boolean(),
      lines: z.array(z.number()),
    }),
  ),
});

/** The corpus's classes in our detectors' categories; a class with none is one we do not detect at all. */
const OURS: Record<string, string[]> = {
  'command-injection': ['command-injection'],
  'sql-injection': ['sql-injection'],
  'code-injection': ['code-injection', 'template-injection'],
  'path-traversal': ['path-traversal'],
  'zip-slip': ['path-traversal'],
  'open-redirect': ['open-redirect'],
  xss: ['xss'],
  'prototype-pollution': ['prototype-pollution'],
  ssrf: ['ssrf'],
  'cleartext-transmission': ['cleartext-transmission'],
  'hardcoded-credentials': ['hardcoded-secret'],
  'weak-signing-key': ['hardcoded-secret', 'weak-jwt-verification'],
  'weak-crypto': ['weak-cryptography', 'weak-password-hash'],
  'insecure-randomness': ['insecure-randomness'],
  'tls-verification-disabled': ['tls-verification-disabled'],
  'insecure-cookie': ['insecure-cookie'],
  'secret-logging': ['pii-in-logs'],
  'missing-rate-limit': ['no-auth-rate-limit'],
  'unsafe-deserialization': ['unsafe-deserialization', 'code-injection'],
  xxe: ['xxe'],
  redos: ['redos'],
  'error-disclosure': ['error-disclosure'],
  csrf: ['csrf'],
  'mass-assignment': ['mass-assignment'],
  'log-injection': ['log-injection'],
};

interface Hit {
  category: string;
  line: number | undefined;
}

async function findings(path: string, content: string, semgrepHits: Hit[]): Promise<Hit[]> {
  const project = { files: [{ path, content }] };
  const compliance = await runCompliance(project, { intentId: 'bench' });
  const hits: Hit[] = compliance.findings.map((f) => ({
    category: f.ruleId.replace(/^compliance\//, ''),
    line: f.location?.line,
  }));
  for (const f of analyseDataflow(project).findings) {
    const rule = DATAFLOW_RULES[f.ruleId.replace(/^dataflow\//, '') as keyof typeof DATAFLOW_RULES];
    hits.push({ category: rule.category, line: f.location?.line });
  }
  return [...hits, ...semgrepHits];
}

/** One semgrep run over the whole corpus (a run per file would cost minutes), hits grouped by path. */
async function semgrepHits(files: { path: string; content: string }[], semgrep: string | null) {
  const byPath = new Map<string, Hit[]>();
  if (!semgrep) return byPath;
  const run = await runSemgrep({ files }, { executable: semgrep, timeoutMs: 900_000 });
  if (run.status !== 'completed') throw new Error(`semgrep did not complete: ${JSON.stringify(run).slice(0, 300)}`);
  for (const f of run.findings) {
    const category = SEMGREP_CATEGORIES[f.ruleId.replace(/^semgrep\//, '')];
    const path = f.location?.path;
    if (!category || !path) continue;
    byPath.set(path, [...(byPath.get(path) ?? []), { category, line: f.location?.line }]);
  }
  return byPath;
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((1000 * a) / b) / 1000);

type Row = { vulnerable: number; strict: number; lenient: number; clean: number; fp: number };

/** Recall and false positives of one labelled corpus. */
async function measure(name: string, dir: string, semgrep: string | null) {
  const labels = Labels.parse(JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')));
  // Paths are neutral (`src/case-N.ext`): the corpus's file names say vuln/clean.
  const files = await Promise.all(
    labels.cases.map(async (c, n) => ({
      path: `src/case-${n}${c.file.slice(c.file.lastIndexOf('.'))}`,
      content: await readFile(join(dir, c.file), 'utf8'),
    })),
  );
  const fromSemgrep = await semgrepHits(files, semgrep);
  const perClass = new Map<string, Row>();
  const misses: string[] = [];
  const falsePositives: string[] = [];
  for (const [n, c] of labels.cases.entries()) {
    const { path, content } = files[n]!;
    const hits = (await findings(path, content, fromSemgrep.get(path) ?? [])).filter((h) =>
      (OURS[c.class] ?? []).includes(h.category),
    );
    const row = perClass.get(c.class) ?? { vulnerable: 0, strict: 0, lenient: 0, clean: 0, fp: 0 };
    if (c.vulnerable) {
      row.vulnerable++;
      if (hits.length) row.lenient++;
      if (hits.some((h) => h.line !== undefined && c.lines.includes(h.line))) row.strict++;
      else
        misses.push(
          `${c.file} (${c.class}, line ${c.lines.join('/')}; found at ${hits.map((h) => h.line).join(',') || 'none'})`,
        );
    } else {
      row.clean++;
      if (hits.length) {
        row.fp++;
        falsePositives.push(`${c.file} (${c.class}: ${hits.map((h) => `${h.category}@${h.line}`).join(', ')})`);
      }
    }
    perClass.set(c.class, row);
  }
  const classes = [...perClass].sort(([a], [b]) => a.localeCompare(b));
  const total = (key: keyof Row) => classes.reduce((sum, [, r]) => sum + r[key], 0);
  console.log(
    `\n${name} corpus: ${labels.cases.length} cases, ${classes.length} classes, semgrep ${semgrep ? 'on' : 'off'}`,
  );
  console.log(`${'class'.padEnd(28)} vuln strict lenient clean  FP`);
  for (const [cls, r] of classes) {
    const detects = (OURS[cls] ?? []).length ? '' : '  (no detector)';
    console.log(
      `${cls.padEnd(28)} ${String(r.vulnerable).padStart(4)} ${String(r.strict).padStart(6)} ${String(r.lenient).padStart(7)} ${String(r.clean).padStart(5)} ${String(r.fp).padStart(3)}${detects}`,
    );
  }
  const recall = ratio(total('strict'), total('vulnerable'));
  const lenient = ratio(total('lenient'), total('vulnerable'));
  const fpr = ratio(total('fp'), total('clean'));
  console.log(`all: strict recall ${recall}, lenient recall ${lenient}, false-positive rate ${fpr}`);
  return {
    cases: labels.cases.length,
    recall,
    lenientRecall: lenient,
    falsePositiveRate: fpr,
    perClass: Object.fromEntries(
      classes.map(([cls, r]) => [
        cls,
        {
          ...r,
          recall: ratio(r.strict, r.vulnerable),
          falsePositiveRate: ratio(r.fp, r.clean),
          detected: (OURS[cls] ?? []).length > 0,
        },
      ]),
    ),
    misses,
    falsePositives,
  };
}

async function main(): Promise<void> {
  const semgrep = process.env.SEMGREP_PATH || (await findExecutable('semgrep')) || null;
  const started = performance.now();
  const independent = await measure('independent', DIR, semgrep);
  const holdout = await measure('hold-out', HOLDOUT_DIR, semgrep);
  const output = {
    generatedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    semgrep: semgrep ? 'assessed' : 'not assessed (not on PATH)',
    independent,
    holdout,
  };
  const file = join(__dirname, 'results', 'validation-independent.json');
  await mkdir(join(__dirname, 'results'), { recursive: true });
  await writeFile(file, await format(JSON.stringify(output), { ...(await resolveConfig(file)), parser: 'json' }));
  console.log('saved bench/results/validation-independent.json');
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
