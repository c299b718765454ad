import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);

/** This repository's @types: the curated offline dependency set generated projects compile against. */
const TYPE_ROOTS = [join(__dirname, '..', '..', 'node_modules', '@types')];

export interface ProjectResult {
  diagnostics: string[];
  tests: { passed: number; failed: number; output: string };
}

/**
 * Writes a generated project to a temporary directory, compiles it with the project's own strict
 * settings (types from this repository's node_modules, no network), then runs its tests with
 * `node --test` exactly as its `npm test` script does.
 */
export async function buildAndTest(files: { path: string; content: string | Buffer }[]): Promise<ProjectResult> {
  const dir = await mkdtemp(join(tmpdir(), 'qlp-generated-'));
  try {
    for (const file of files) {
      await mkdir(dirname(join(dir, file.path)), { recursive: true });
      await writeFile(join(dir, file.path), file.content);
    }
    const configFile = ts.readConfigFile(join(dir, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, dir);
    const program = ts.createProgram(parsed.fileNames, { ...parsed.options, typeRoots: TYPE_ROOTS });
    const emitted = program.emit();
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (!d.file || d.start === undefined) return text;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${relative(dir, d.file.fileName)}:${line + 1} ${text}`;
    });
    if (diagnostics.length) return { diagnostics, tests: { passed: 0, failed: 0, output: '' } };
    const output = await run(process.execPath, ['--test', 'dist/test/'], { cwd: dir, timeout: 60_000 })
      .then((r) => r.stdout)
      .catch((error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`);
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)`, 'm').exec(output)?.[1] ?? 0);
    return { diagnostics, tests: { passed: count('pass'), failed: count('fail'), output } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
