'use strict';
// Runs inside the sandbox (plain Node, no dependencies): writes the project into the work dir, checks its
// dependencies against the curated offline set, compiles it, runs its tests, and prints one result line.
// The host enforces the limits and checks the shape of what it says. Where the sandbox lets it (it starts as
// root of the sandbox, request.stepUid set), the runner starts every step as that other uid: then nothing the
// project runs can read its memory (the nonce), open its stdout or signal it (docs/sandbox.md, "Result
// integrity"); otherwise the project shares its uid, and its results are only as honest as the project.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const WORK = process.env.QLP_WORK_DIR || '/work';
const DEPS = process.env.QLP_DEPS_DIR || '/opt/qlp/deps';
const PROJECT = path.join(WORK, 'project');
const EXCERPT_BYTES = 4096;

const SIGNATURES = [
  { limit: 'pids', pattern: /\bEAGAIN\b|Resource temporarily unavailable|fork: retry/ },
  {
    limit: 'memory',
    pattern: /heap out of memory|Array buffer allocation failed|\bENOMEM\b|Cannot allocate memory|bad_alloc/,
  },
  { limit: 'disk', pattern: /\bENOSPC\b|no space left on device|\bEFBIG\b|File too large/i },
  { limit: 'output', pattern: /QLP output cap: [^\n]*/ },
];
/** The run's pids cgroup as the sandbox shows it (Docker: its own; bubblewrap: bound in read-only; v1 or v2). */
const PIDS_EVENTS = ['/sys/fs/cgroup/pids/pids.events', '/sys/fs/cgroup/pids.events'];
const PIDS_POLL_MS = 250;
const SIGNALS = { SIGXFSZ: 'disk', SIGXCPU: 'cpu' };

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** Keeps the first and last bytes of a stream and counts the rest. */
function capture(limit) {
  let head = '';
  let tail = '';
  let total = 0;
  return {
    add(chunk) {
      total += chunk.length;
      const text = chunk.toString('utf8');
      if (head.length < EXCERPT_BYTES) head += text.slice(0, EXCERPT_BYTES - head.length);
      tail = (tail + text).slice(-EXCERPT_BYTES);
      return total > limit;
    },
    get total() {
      return total;
    },
    /** Whole output while it is small; otherwise its start and end. */
    excerpt() {
      if (total <= 2 * EXCERPT_BYTES) return (head + tail).slice(0, total);
      return `${head}\n… ${total - 2 * EXCERPT_BYTES} bytes left out …\n${tail}`;
    },
    full: [],
  };
}

/** The uid and gid the steps run as, when they differ from the runner's (see main). */
let stepIds;

/** One step as a child process in its own process group, so a cap or the end of the step kills all of it. */
function runStep(step, args, outputLimit, keepAll, extraEnv) {
  const started = Date.now();
  return new Promise((resolve) => {
    const out = capture(outputLimit);
    const kept = [];
    let capped = false;
    let pidsRefused = false;
    const child = spawn(process.execPath, args, {
      cwd: PROJECT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: WORK, TMPDIR: '/tmp', NODE_ENV: 'test', ...extraEnv },
      ...stepIds,
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    // At the process limit a fork bomb's children hang rather than fail loudly: once the cgroup refuses a
    // process, the step is over (the run is a 'pids' limit hit anyway), instead of spinning until the timeout.
    const refusedBefore = pidsRefusals();
    const watch = setInterval(() => {
      if (pidsRefusals() > refusedBefore) {
        pidsRefused = true;
        killGroup();
      }
    }, PIDS_POLL_MS);
    const onData = (chunk) => {
      if (capped) return;
      if (keepAll) kept.push(chunk);
      if (out.add(chunk)) {
        capped = true;
        killGroup();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => {
      clearInterval(watch);
      resolve({ step, status: 'failed', durationMs: Date.now() - started, reason: error.message, outputExcerpt: '' });
    });
    child.on('close', (exitCode, signal) => {
      clearInterval(watch);
      killGroup(); // whatever the step left running in its group
      const result = {
        step,
        status: capped || pidsRefused ? 'killed' : exitCode === 0 ? 'passed' : 'failed',
        durationMs: Date.now() - started,
        exitCode,
        signal,
        outputExcerpt: out.excerpt(),
      };
      if (capped) result.reason = `output exceeded ${outputLimit} bytes`;
      else if (pidsRefused) result.reason = 'the process limit refused a new process or thread';
      const output = keepAll ? Buffer.concat(kept).toString('utf8') : undefined;
      resolve({ ...result, output, capped, pidsRefused });
    });
  });
}

function limitHitsOf(result) {
  const hits = [];
  if (result.capped) hits.push({ limit: 'output', step: result.step, detail: result.reason });
  if (result.pidsRefused) hits.push({ limit: 'pids', step: result.step, detail: result.reason });
  const bySignal = SIGNALS[result.signal];
  if (bySignal) hits.push({ limit: bySignal, step: result.step, detail: `killed by ${result.signal}` });
  const text = result.output || result.outputExcerpt;
  if (result.status !== 'passed') {
    for (const { limit, pattern } of SIGNATURES) {
      const match = pattern.exec(text);
      if (match && !hits.some((h) => h.limit === limit)) {
        hits.push({ limit, step: result.step, detail: `"${match[0]}" in the ${result.step} output` });
      }
    }
  }
  return hits;
}

function writeProject(files) {
  for (const file of files) {
    const target = path.resolve(PROJECT, file.path);
    if (!target.startsWith(`${PROJECT}${path.sep}`)) throw new Error(`unsafe path: ${file.path}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, Buffer.from(file.contentBase64, 'base64'));
  }
}

/** Hands the project to the steps' uid (symlinks themselves, not what they point to). */
function chownTree(dir, uid, gid) {
  fs.lchownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const target = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(target, uid, gid);
    else fs.lchownSync(target, uid, gid);
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(path.join(PROJECT, file), 'utf8'));
  } catch {
    return undefined;
  }
}

/** "Install": every dependency must be in the curated set, which is linked in read-only; nothing is fetched. */
function install(manifest) {
  const started = Date.now();
  const names = Object.keys({ ...(manifest?.dependencies || {}), ...(manifest?.devDependencies || {}) });
  const missing = names.filter((name) => !fs.existsSync(path.join(DEPS, 'node_modules', name, 'package.json')));
  fs.symlinkSync(path.join(DEPS, 'node_modules'), path.join(PROJECT, 'node_modules'));
  const reason = missing.length
    ? `not in the curated offline dependency set (no network in the sandbox): ${missing.join(', ')}`
    : undefined;
  const excerpt = `${names.length} dependencies, ${names.length - missing.length} from the curated set`;
  const step = {
    step: 'install',
    status: missing.length ? 'failed' : 'passed',
    durationMs: Date.now() - started,
    outputExcerpt: excerpt,
  };
  return { step: reason ? { ...step, reason } : step, missing };
}

/** Test files as the project's own `npm test` names them (`node --test <paths>`), else Node's discovery. */
function testArgs(manifest) {
  const script = manifest?.scripts?.test || '';
  const match = /node\s+--test((?:\s+[^\s&|;]+)*)/.exec(script);
  const paths = match
    ? match[1]
        .trim()
        .split(/\s+/)
        .filter((p) => p && !p.startsWith('-'))
    : [];
  return ['--test', '--test-reporter=tap', ...paths];
}

/** Most tests a run lists by name (its counts stay exact). */
const MAX_TEST_RESULTS = 500;

/** Counts, every test's outcome by name, and failing tests from Node's TAP output. */
function parseTap(output) {
  // The summary is the last thing node --test writes (a test's own output comes escaped, `# \\# pass 42`).
  const count = (name) => Number([...output.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? 0);
  const failures = [];
  const results = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const result = /^\s*(not )?ok \d+ - (.*)$/.exec(lines[i]);
    if (result && results.length < MAX_TEST_RESULTS) {
      const directive = /\s+#\s*(SKIP|TODO)\b.*$/i.exec(result[2]);
      const name = result[2].replace(/\s+#\s*(SKIP|TODO)\b.*$/i, '').slice(0, 300);
      results.push({ name, status: directive ? 'skipped' : result[1] ? 'failed' : 'passed' });
    }
    const match = /^\s*not ok \d+ - (.*)$/.exec(lines[i]);
    if (!match) continue;
    const block = [];
    for (let j = i + 1; j < lines.length && !/^\s*(not )?ok \d+/.test(lines[j]); j++) block.push(lines[j]);
    const detail = block.join('\n');
    if (/failureType: 'subtestsFailed'/.test(detail)) continue; // its failing subtests are listed themselves
    failures.push({ name: match[1].replace(/\s*#.*$/, ''), excerpt: detail.slice(0, 1024) });
  }
  return {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
    failures: failures.slice(0, 20),
    results,
  };
}

function readNumber(file) {
  try {
    const value = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The run's own cgroup, when the sandbox shows it (Docker on cgroup v1 or v2). */
function resources() {
  const peak =
    readNumber('/sys/fs/cgroup/memory/memory.max_usage_in_bytes') ?? readNumber('/sys/fs/cgroup/memory.peak');
  const cpuNs =
    readNumber('/sys/fs/cgroup/cpuacct/cpuacct.usage') ?? readNumber('/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage');
  return { peakMemoryBytes: peak, cpuMs: cpuNs === undefined ? undefined : Math.round(cpuNs / 1e6) };
}

/**
 * Closes what this process inherited without close-on-exec beyond stdio (a descriptor the worker had open,
 * bwrap's user namespace): the steps would inherit it. Node's own descriptors are all close-on-exec.
 */
function closeInheritedFds() {
  const O_CLOEXEC = 0o2000000;
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd <= 2) continue;
    try {
      const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
      if ((flags & O_CLOEXEC) === 0) fs.closeSync(fd);
    } catch {
      // gone meanwhile (the descriptor readdir itself used)
    }
  }
}

async function main() {
  closeInheritedFds();
  const request = JSON.parse(await readStdin());
  // The host kills the run at its wall clock; this ends it too if the host died first (a crashed worker):
  // when the runner exits, the sandbox's init exits and takes every process with it.
  if (request.deadlineMs) setTimeout(() => process.exit(124), request.deadlineMs).unref();
  const say = (kind, value) => process.stdout.write(`QLP ${request.nonce} ${kind} ${JSON.stringify(value)}\n`);
  if (request.stepUid !== undefined) {
    // Never run the project as the runner: better no run than a result the project could have written.
    if (process.getuid() !== 0 || request.stepUid === 0) {
      throw new Error(`the runner must start as root to run the steps as uid ${request.stepUid}`);
    }
    stepIds = { uid: request.stepUid, gid: request.stepUid };
  }
  const steps = [];
  const limitHits = [];
  let tests = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const skip = (step, reason) => steps.push({ step, status: 'skipped', durationMs: 0, reason, outputExcerpt: '' });

  fs.mkdirSync(PROJECT, { recursive: true });
  writeProject(request.files);
  const manifest = readJson('package.json');

  say('step', 'install');
  const installed = install(manifest);
  steps.push(installed.step);
  if (stepIds) chownTree(PROJECT, stepIds.uid, stepIds.gid); // the steps write their build output there

  const tsc = path.join(DEPS, 'node_modules', 'typescript', 'bin', 'tsc');
  if (installed.missing.length) {
    skip('typecheck', 'dependencies missing');
    skip('build', 'dependencies missing');
    skip('test', 'dependencies missing');
  } else {
    let built = true;
    if (fs.existsSync(path.join(PROJECT, 'tsconfig.json')) && request.typecheckedOnHost && !checksMoreThanHost()) {
      // The host type-checked these very files and found no error: here the project is only transpiled
      // (its own tsconfig, no second type-check), which is most of a small project's run time.
      skip('typecheck', 'type-checked on the host (passed); transpiled only');
      say('step', 'build');
      const emitted = await runStep('build', [__filename, '--transpile', tsc], request.outputBytes, true);
      limitHits.push(...limitHitsOf(emitted));
      built = emitted.status === 'passed';
      steps.push({ ...strip(emitted), reason: built ? undefined : 'transpiling failed' });
    } else if (fs.existsSync(path.join(PROJECT, 'tsconfig.json'))) {
      // One compiler run type-checks and emits; reported as two steps.
      say('step', 'typecheck');
      const compiled = await runStep('typecheck', [tsc, '-p', '.', '--pretty', 'false'], request.outputBytes, true);
      limitHits.push(...limitHitsOf(compiled));
      const errors = ((compiled.output || '').match(/error TS\d+/g) || []).length;
      steps.push({
        ...strip(compiled),
        reason: compiled.status === 'passed' ? undefined : `${errors} compiler errors`,
      });
      const outDir = readJson('tsconfig.json')?.compilerOptions?.outDir;
      built = compiled.status !== 'killed' && (!outDir || fs.existsSync(path.join(PROJECT, outDir)));
      steps.push({
        step: 'build',
        status: built ? 'passed' : 'failed',
        durationMs: 0,
        reason: built ? undefined : 'the compiler emitted nothing',
        outputExcerpt: '',
      });
    } else {
      skip('typecheck', 'no tsconfig.json');
      skip('build', 'no tsconfig.json');
    }
    if (built) {
      say('step', 'test');
      // The test files' own processes get the output cap too (see capOutput): node --test reads their
      // output eagerly and buffers what its reporter has not written yet, so a flood exhausts its memory first.
      const args = ['--require', __filename, ...testArgs(manifest)];
      const ran = await runStep('test', args, request.outputBytes, true, {
        QLP_OUTPUT_CAP: String(request.outputBytes),
      });
      limitHits.push(...limitHitsOf(ran));
      tests = parseTap(ran.output || '');
      const reason =
        ran.capped || ran.pidsRefused ? ran.reason : tests.failed ? `${tests.failed} tests failed` : undefined;
      steps.push({ ...strip(ran), reason });
    } else {
      skip('test', 'the build failed');
    }
  }
  say('result', { steps, tests, limitHits, missingDependencies: installed.missing, resources: resources() });
}

function strip(result) {
  const { output: _output, capped: _capped, pidsRefused: _pidsRefused, ...step } = result;
  return step;
}

/** Number of process or thread creations the run's pids cgroup has refused (0 when it is not visible). */
function pidsRefusals() {
  for (const file of PIDS_EVENTS) {
    try {
      return Number(/max (\d+)/.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? 0);
    } catch {
      // not this cgroup version, or not visible
    }
  }
  return 0;
}

/**
 * Preloaded (--require) into every test file process node --test starts: past `limit` bytes of stdout and
 * stderr it says so on stderr and kills the process. A best effort against floods (direct fd writes bypass
 * it); the memory limit remains the backstop.
 */
function capOutput(limit) {
  let written = 0;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = function (chunk, encoding, ...rest) {
      written +=
        typeof chunk === 'string'
          ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8')
          : chunk.length;
      if (written > limit) {
        fs.writeSync(2, `\nQLP output cap: the test process wrote more than ${limit} bytes\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      return write.call(this, chunk, encoding, ...rest);
    };
  }
}

/**
 * Checks the host's type-check (strict, noUnusedLocals) does not make: a tsconfig that asks for one of them
 * gets its own full type-check here.
 */
const CHECKS_BEYOND_HOST = [
  'noUnusedParameters',
  'noImplicitReturns',
  'noFallthroughCasesInSwitch',
  'noUncheckedIndexedAccess',
  'exactOptionalPropertyTypes',
  'noImplicitOverride',
  'noPropertyAccessFromIndexSignature',
  'noUncheckedSideEffectImports',
];

function checksMoreThanHost() {
  const tsconfig = readJson('tsconfig.json');
  if (!tsconfig || tsconfig.extends) return true; // not plain JSON, or settings from elsewhere: check it here
  const options = tsconfig.compilerOptions || {};
  return (
    CHECKS_BEYOND_HOST.some((option) => options[option] === true) ||
    options.allowUnreachableCode === false ||
    options.allowUnusedLabels === false
  );
}

/**
 * `node runner.cjs --transpile <tsc>`, as a step: emits the project as its tsconfig says, file by file
 * without type information (TypeScript's transpileModule), to the paths tsc would write.
 */
function transpileProject(tscPath) {
  const ts = require(path.join(path.dirname(tscPath), '..', 'lib', 'typescript.js'));
  const configFile = ts.readConfigFile('tsconfig.json', ts.sys.readFile);
  if (configFile.error) throw new Error(ts.flattenDiagnosticMessageText(configFile.error.messageText, '\n'));
  const config = ts.parseJsonConfigFileContent(
    configFile.config,
    ts.sys,
    process.cwd(),
    undefined,
    path.resolve('tsconfig.json'),
  );
  if (config.errors.length)
    throw new Error(config.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'));
  if (config.options.noEmit) return;
  const options = { ...config.options, declaration: false, declarationMap: false, composite: false };
  for (const fileName of config.fileNames) {
    if (fileName.endsWith('.d.ts')) continue;
    const outputs = ts.getOutputFileNames(config, fileName, false).filter((f) => /\.(c|m)?js$/.test(f));
    if (!outputs.length) continue;
    const { outputText } = ts.transpileModule(fs.readFileSync(fileName, 'utf8'), {
      compilerOptions: options,
      fileName,
    });
    fs.mkdirSync(path.dirname(outputs[0]), { recursive: true });
    fs.writeFileSync(outputs[0], outputText);
  }
}

if (require.main === module && process.argv[2] === '--transpile') {
  transpileProject(process.argv[3]);
} else if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`runner failed: ${error && error.stack ? error.stack : error}\n`);
    process.exit(70);
  });
} else if (process.env.NODE_TEST_CONTEXT && process.env.QLP_OUTPUT_CAP) {
  capOutput(Number(process.env.QLP_OUTPUT_CAP));
}
