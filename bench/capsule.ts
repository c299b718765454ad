/**
 * Capsule packaging throughput (issue 15): pack + hash + sign + upload ≥ 100 MB/s for a 50 MB capsule.
 * A seeded project (the same bytes every run: many small TypeScript files, larger JSON and Markdown, ~10%
 * incompressible binaries) goes through buildCapsule (ephemeral ed25519 key) and ObjectStore.put to a
 * real SeaweedFS started for the bench, BENCH_CAPSULE_RUNS times after one warm-up. Prints the medians
 * per phase (build = pack + hash + sign; upload) and MB/s (input bytes ÷ seconds; MB = 10^6 bytes), the
 * archive's size, and gzip levels 1/6/9 on the same tar stream; saves bench/results/capsule-<time>.json.
 *   npx tsx bench/capsule.ts    (BENCH_CAPSULE_RUNS=5 BENCH_CAPSULE_MB=50 BENCH_S3_PORT=47450)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { ephemeralSigner } from '../adapters/signing/local-key';
import { ObjectStore } from '../adapters/storage/s3';
import { capsuleKey } from '../adapters/storage/artifacts';
import { buildCapsule } from '../capsule/build';
import type { CapsuleInput } from '../capsule/manifest';
import { verifyCapsule } from '../capsule/verify';
import { loadConfig } from '../config';
import { CAPSULE_PATHS } from '../contracts/capsule';
import { filesDigest, reviewDigest, sha256 } from '../contracts/digest';
import type { LayerFailure } from '../contracts/validation';
import { ensureTool, stopServices } from '../scripts/services';
import { ensureS3 } from '../scripts/services/s3';
import { runCompliance } from '../validation/compliance/engine';
import { projectFromFiles } from '../validation/project';
import { buildValidationReport } from '../validation/report';
import { toSarif } from '../validation/sarif';
import { DEFAULT_THRESHOLDS } from '../validation/scoring';
import { machineBusyMs } from './stack';

const RUNS = Number(process.env.BENCH_CAPSULE_RUNS ?? 5);
const INPUT_BYTES = Number(process.env.BENCH_CAPSULE_MB ?? 50) * 1e6;
// SeaweedFS takes this port and the 7 after it; dag.ts and chaos.ts use 47250 and 47350.
const S3_PORT = Number(process.env.BENCH_S3_PORT ?? 47450);
const TARGET_MB_PER_SECOND = 100;
const SEED = 15;

type Content = { path: string; content: Buffer };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const mbPerSecond = (bytes: number, ms: number) => round(bytes / 1e6 / (ms / 1000));
const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

/** mulberry32: a small seeded PRNG, so the project is byte-for-byte the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'account address amount audit batch billing cache cart catalog channel checkout client config customer ' +
  'discount document event export feature filter gateway handler history import inventory invoice item ' +
  'job ledger limit listing message metric notice order owner page payment policy price product profile ' +
  'queue quota record refund report request response review role route schedule search session shipment ' +
  'stock store subscription summary supplier tax template tenant ticket token total transfer user vendor'
).split(' ');
const VERBS =
  'apply build check create delete fetch find format list load merge parse refresh save send sync update validate'.split(
    ' ',
  );
const TYPES = ['string', 'number', 'boolean', 'Date', 'unknown', 'Buffer', 'Record<string, string>'];

/** The project's files: `bytes` in all, of which ~55% small TypeScript files, ~35% larger JSON and Markdown, ~10% binary. */
function benchProject(bytes: number): Content[] {
  const random = prng(SEED);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const int = (max: number) => Math.floor(random() * max);
  const cap = (word: string) => word[0]!.toUpperCase() + word.slice(1);
  const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');

  const tsFile = (size: number) => {
    const [a, b] = [pick(WORDS), pick(WORDS)];
    const lines = [
      `import { ${cap(a)}Store } from '../${a}/${a}-store';`,
      `import type { ${cap(b)} } from '../${b}/types';`,
      '',
    ];
    let length = 0;
    while (length < size) {
      const [verb, noun, arg, field] = [pick(VERBS), pick(WORDS), pick(WORDS), pick(WORDS)];
      const block = [
        `/** ${cap(sentence(4 + int(8)))}. */`,
        `export async function ${verb}${cap(noun)}(${arg}: ${pick(TYPES)}, limit = ${int(1000)}): Promise<${cap(b)} | undefined> {`,
        `  const ${noun} = await ${cap(a)}Store.${pick(VERBS)}(${arg}, { ${field}: limit, tenant: '${pick(WORDS)}' });`,
        `  if (!${noun}) throw new Error('${sentence(3 + int(5))}');`,
        `  for (const ${field} of ${noun}.${pick(WORDS)}s) ${field}.${pick(WORDS)} += ${int(100)};`,
        `  return { ...${noun}, ${pick(WORDS)}: \`${pick(WORDS)}-\${${arg}}\` } as ${cap(b)};`,
        '}',
        '',
      ].join('\n');
      lines.push(block);
      length += block.length;
    }
    return Buffer.from(lines.join('\n'));
  };
  const jsonFile = (size: number) => {
    const records: unknown[] = [];
    for (let length = 0; length < size; length += 260) {
      records.push({
        id: Array.from({ length: 4 }, () => int(0xffffffff).toString(16).padStart(8, '0')).join('-'),
        name: sentence(2),
        amount: round(random() * 10_000, 2),
        tags: Array.from({ length: int(4) }, () => pick(WORDS)),
        createdAt: new Date(1.7e12 + int(3e10)).toISOString(),
        note: sentence(3 + int(6)),
      });
    }
    return Buffer.from(`${JSON.stringify(records, null, 2)}\n`);
  };
  const markdownFile = (size: number) => {
    const paragraphs: string[] = [];
    for (let length = 0; length < size; length += 400)
      paragraphs.push(`## ${cap(sentence(3))}\n\n${cap(sentence(50 + int(20)))}.\n`);
    return Buffer.from(paragraphs.join('\n'));
  };
  const binaryFile = (size: number) => {
    const content = Buffer.alloc(size);
    for (let at = 0; at + 4 <= size; at += 4) content.writeUInt32LE(int(0x100000000), at);
    return content;
  };

  const files: Content[] = [
    {
      path: 'package.json',
      content: Buffer.from(
        JSON.stringify(
          {
            name: 'bench-capsule',
            version: '1.0.0',
            dependencies: { express: '^4.21.2', zod: '^3.24.1', pg: '^8.13.1', pino: '^9.6.0' },
            devDependencies: { typescript: '^5.7.3', jest: '^29.7.0', '@types/node': '^22.10.5' },
          },
          null,
          2,
        ),
      ),
    },
  ];
  const fill = (budget: number, make: (i: number) => Content) => {
    for (let used = 0, i = 0; used < budget; i++) {
      const file = make(i);
      files.push(file);
      used += file.content.length;
    }
  };
  fill(bytes * 0.1, (i) => ({ path: `assets/media/blob-${i}.bin`, content: binaryFile(800_000 + int(400_000)) }));
  fill(bytes * 0.35, (i) =>
    i % 3 === 2
      ? { path: `docs/${pick(WORDS)}-${i}.md`, content: markdownFile(150_000 + int(500_000)) }
      : { path: `fixtures/${pick(WORDS)}/${pick(WORDS)}-${i}.json`, content: jsonFile(200_000 + int(800_000)) },
  );
  const rest = bytes - files.reduce((sum, f) => sum + f.content.length, 0);
  fill(rest, (i) => ({
    path: `src/${pick(WORDS)}/${pick(WORDS)}-${pick(VERBS)}-${i}.ts`,
    content: tsFile(1_000 + int(14_000)),
  }));
  return files;
}

/** The reports a capsule carries, made by the real layer 3 over the project (layer 1 left out: it is not what is measured). */
async function benchReports(project: Content[], intentId: string, generatedAt: Date): Promise<Content[]> {
  const compliance = await runCompliance(projectFromFiles(project), { intentId, generatedAt });
  const notRun: LayerFailure = { status: 'not_assessed', reason: 'bench: layer 1 is not run' };
  const report = buildValidationReport({
    intentId,
    static: notRun,
    compliance,
    thresholds: DEFAULT_THRESHOLDS,
    reportKeys: { sarif: `reports/${intentId}/validation.sarif` },
    generatedAt,
  });
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  const tsFiles = project.filter((f) => f.path.endsWith('.ts')).length;
  return [
    {
      path: 'reports/validation.json',
      content: json({ status: 'passed', filesChecked: tsFiles, errorCount: 0, diagnostics: [] }),
    },
    { path: CAPSULE_PATHS.validationReport, content: json(report) },
    {
      path: 'reports/validation.sarif',
      content: json(toSarif({ compliance, notAssessed: [{ layer: 'static', reason: notRun.reason }] })),
    },
  ];
}

function benchInput(project: Content[], reports: Content[]): CapsuleInput {
  const decidedAt = '2026-12-01T10:00:00.000Z';
  const report = reports.find((r) => r.path === CAPSULE_PATHS.validationReport)!.content;
  const digest = reviewDigest(filesDigest(project), sha256(report));
  return {
    capsuleId: '3f0c2a7e-9b1d-4c55-8e0a-6d2f1b9c4e71',
    intentId: '8a6e4d2c-1f3b-4e5a-9c7d-0b2e4f6a8c1d',
    intentText: 'A multi-tenant order and billing service with invoices, refunds and audit history',
    version: 1,
    plan: {
      planner: 'bench',
      projectName: 'bench-capsule',
      tasks: ['codegen', 'test', 'doc'].map((type, i) => ({
        id: `t${i + 1}`,
        type: type as 'codegen' | 'test' | 'doc',
        description: `bench ${type}`,
        dependencies: i ? [`t${i}`] : [],
        priority: 0,
      })),
    },
    validation: {
      typecheck: { status: 'passed', filesChecked: project.length, errorCount: 0, firstErrors: [] },
      reportKey: 'bench/validation.json',
    },
    approval: {
      decision: 'approve',
      approver: 'bench-approver',
      via: 'update',
      decidedAt,
      digest,
      authenticated: true,
    },
    workflow: { workflowId: 'bench-capsule', runId: 'bench-run' },
    createdAt: decidedAt,
    startedAt: '2026-12-01T09:58:00.000Z',
    tenant: 'bench',
    tags: ['bench'],
    approvalPolicy: { required: 1, allowSelfApproval: false },
    submittedBy: 'bench-submitter',
  };
}

/** SeaweedFS on the bench's own port and data directory; the returned function stops it and removes both. */
async function startS3(): Promise<{ store: ObjectStore; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qlp-bench-capsule-'));
  const config = loadConfig({
    ...process.env,
    QLP_DATA_DIR: dataDir,
    S3_ENDPOINT: `http://127.0.0.1:${S3_PORT}`,
    S3_BUCKET: 'qlp-bench-capsule',
  });
  const stop = async () => {
    await stopServices(dataDir, { graceMs: 5000 });
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await ensureS3(config, { weedPath: () => ensureTool('weed', config.toolsDir, { weedPath: config.s3.weedPath }) });
  } catch (error) {
    await stop();
    throw error;
  }
  return { store: new ObjectStore(config.s3), stop };
}

/** zlib at levels 1, 6 and 9 on the archive's own tar stream: what each level costs and saves here. */
async function gzipLevels(archive: Buffer) {
  const tar = gunzipSync(archive);
  const levels = [];
  for (const level of [1, 6, 9]) {
    const started = performance.now();
    const bytes = (await promisify(gzip)(tar, { level })).length;
    const ms = performance.now() - started;
    levels.push({
      level,
      ms: round(ms),
      bytes,
      ratio: round(tar.length / bytes, 2),
      mbPerSecond: mbPerSecond(tar.length, ms),
    });
  }
  return { tarBytes: tar.length, levels };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((n) => round(n, 2));
  const project = benchProject(INPUT_BYTES);
  const inputBytes = project.reduce((sum, f) => sum + f.content.length, 0);
  const reports = await benchReports(project, 'bench-capsule', new Date('2026-12-01T09:59:00.000Z'));
  const input = benchInput(project, reports);
  const signer = ephemeralSigner();
  const platform = { name: 'quantumlayer', version: 'bench' };
  console.log(`project: ${project.length} files, ${inputBytes} bytes; load average ${loadAtStart.join(' ')}`);

  const s3 = await startS3();
  try {
    const runs: {
      buildMs: number;
      uploadMs: number;
      totalMs: number;
      buildCpuMs: number;
      uploadCpuMs: number;
      sha256: string;
    }[] = [];
    let archive: Buffer = Buffer.alloc(0);
    let timedMs = 0;
    let busyMs = 0;
    for (let run = 0; run <= RUNS; run++) {
      const busyAtStart = machineBusyMs();
      const cpuAtStart = process.cpuUsage();
      const started = performance.now();
      const capsule = await buildCapsule(input, project, reports, { signer, platform });
      const built = performance.now();
      const buildCpu = process.cpuUsage(cpuAtStart);
      await s3.store.put(capsuleKey(input.intentId, run + 1), capsule.archive, {
        'Content-Type': 'application/gzip',
        'capsule-id': input.capsuleId,
        sha256: capsule.sha256,
        'file-count': String(capsule.fileCount),
      });
      const uploaded = performance.now();
      const uploadCpu = process.cpuUsage(cpuAtStart);
      archive = capsule.archive;
      const timing = {
        buildMs: round(built - started),
        uploadMs: round(uploaded - built),
        totalMs: round(uploaded - started),
        buildCpuMs: round(cpuMs(buildCpu)),
        uploadCpuMs: round(cpuMs(uploadCpu) - cpuMs(buildCpu)),
        sha256: capsule.sha256,
      };
      console.log(`${run === 0 ? 'warm-up' : `run ${run}`}: ${JSON.stringify(timing)}`);
      if (run === 0) continue;
      runs.push(timing);
      timedMs += uploaded - started;
      busyMs += machineBusyMs() - busyAtStart;
    }

    const verification = await verifyCapsule(archive, { trustedKeys: new Map([[signer.keyId, signer.publicKeyPem]]) });
    const medians = {
      buildMs: round(median(runs.map((r) => r.buildMs))),
      uploadMs: round(median(runs.map((r) => r.uploadMs))),
      totalMs: round(median(runs.map((r) => r.totalMs))),
    };
    const rates = {
      build: mbPerSecond(inputBytes, medians.buildMs),
      upload: mbPerSecond(inputBytes, medians.uploadMs),
      total: mbPerSecond(inputBytes, medians.totalMs),
    };
    const medianBuildCpuMs = round(median(runs.map((r) => r.buildCpuMs)));
    const result = {
      inputBytes,
      inputFiles: project.length,
      archiveBytes: archive.length,
      runs: runs.length,
      median: medians,
      mbPerSecond: rates,
      target: TARGET_MB_PER_SECOND,
      met: rates.total >= TARGET_MB_PER_SECOND,
      // CPU time of this process (its threads included: zlib and crypto run on libuv's pool); not SeaweedFS's.
      medianCpuMs: { build: medianBuildCpuMs, upload: round(median(runs.map((r) => r.uploadCpuMs))) },
      /** Input bytes per second of this process's CPU while building: what the machine's load does not change. */
      mbPerCpuSecond: { build: mbPerSecond(inputBytes, medianBuildCpuMs) },
      /** Share of all CPUs busy (every process, ours included) during the timed runs. */
      machineBusy: round(busyMs / (timedMs * cpus().length), 2),
      deterministic: new Set(runs.map((r) => r.sha256)).size === 1,
      verification: verification.result.status,
      gzip: await gzipLevels(archive),
      perRun: runs,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
      loadAverage: { start: loadAtStart, end: loadavg().map((n) => round(n, 2)) },
      finishedAt: new Date().toISOString(),
    };

    const out = join(__dirname, 'results', `capsule-${result.finishedAt.slice(0, 19).replace(/[T:]/g, '-')}.json`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.table({
      build: [medians.buildMs, rates.build],
      upload: [medians.uploadMs, rates.upload],
      total: [medians.totalMs, rates.total],
    });
    console.log(
      `archive ${archive.length} bytes (${round(inputBytes / archive.length, 2)}× smaller), ${result.verification}, deterministic ${result.deterministic}`,
    );
    console.log(
      `gzip levels on the tar stream: ${result.gzip.levels.map((l) => `${l.level}: ${l.ms} ms, ${l.bytes} bytes`).join('; ')}`,
    );
    console.log(
      `target ${TARGET_MB_PER_SECOND} MB/s ${result.met ? 'MET' : 'NOT MET'}: ${rates.total} MB/s (median of ${runs.length}); ` +
        `load average ${result.loadAverage.start.join(' ')} → ${result.loadAverage.end.join(' ')} on ${result.machine.cpus} CPUs, ` +
        `${Math.round(result.machineBusy * 100)}% of them busy; build ${result.mbPerCpuSecond.build} MB per CPU-second`,
    );
    console.log(`saved ${out}`);
  } finally {
    await s3.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
