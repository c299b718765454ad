import type { GeneratedFile } from '../../generated-file';
import type { OfflineSpec } from '../catalogue';
import type { FieldSpec, Operation } from '../intent-parameters';
import { kebab, words } from '../names';
import { entityModule, entityNames, sampleObject, storeModule } from './entity-code';
import { header } from './header';

const has = (spec: OfflineSpec, op: Operation) => spec.operations.includes(op);
const flagOf = (field: FieldSpec) => `--${kebab(words(field.name.replace(/([A-Z])/g, ' $1')))}`;

/** The commands each operation provides. */
const COMMANDS: Record<Operation, string> = {
  create: 'add',
  read: 'show',
  list: 'list',
  update: 'update',
  delete: 'remove',
};

/** Source files: entity, store, JSON-file storage, the command runner (pure: argv and io in, exit code out) and its entry point. */
export function cliToolCode(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const envVar = `${spec.entity.pluralWords.join('_').toUpperCase()}_FILE`;
  const commands = spec.operations.map((op) => COMMANDS[op]);
  const flags = spec.entity.fields.map(
    (field) => `  ['${flagOf(field)}', { field: '${field.name}', type: '${field.type}' }],`,
  );
  const needsFlags = has(spec, 'create') || has(spec, 'update');
  const usageLines = [
    `usage: ${spec.projectName} <command> [arguments]`,
    ...(has(spec, 'create')
      ? [
          `  add ${spec.entity.fields.map((f) => `${flagOf(f)} <${f.type === 'date' ? 'yyyy-mm-dd' : f.type}>`).join(' ')}`,
        ]
      : []),
    ...(has(spec, 'list') ? ['  list'] : []),
    ...(has(spec, 'read') ? ['  show <id>'] : []),
    ...(has(spec, 'update') ? ['  update <id> [--field value …]'] : []),
    ...(has(spec, 'delete') ? ['  remove <id>'] : []),
    `data file: $${envVar} or ./${kebab(spec.entity.pluralWords)}.json`,
  ];
  const cli = `${header(spec.kind)}import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ${[has(spec, 'create') && n.parseInput, has(spec, 'update') && n.parsePatch, `type ${n.type}`].filter(Boolean).join(', ')} } from './${n.module}';
import { ${n.store} } from './${n.storeModule}';

/** Where output goes: the entry point passes the console, tests collect lines. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = ${JSON.stringify(usageLines.join('\n'))};
${
  needsFlags
    ? `
/** Command-line flag → field and its type: values arrive as text and are converted before validation. */
const FLAGS = new Map<string, { field: string; type: 'string' | 'number' | 'boolean' | 'date' }>([
${flags.join('\n')}
]);

/** Turns ['--title', 'Dune', '--year', '1965'] into { title: 'Dune', year: 1965 }, or the first problem. */
export function parseFlags(args: string[]): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const value: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    const spec = FLAGS.get(flag);
    if (!spec) return { ok: false, error: 'unknown option ' + flag };
    const text = args[i + 1];
    if (text === undefined) return { ok: false, error: flag + ' needs a value' };
    value[spec.field] =
      spec.type === 'number' ? (text.trim() === '' ? Number.NaN : Number(text)) :
      spec.type === 'boolean' ? (text === 'true' ? true : text === 'false' ? false : text) :
      text;
  }
  return { ok: true, value };
}
`
    : ''
}
function load(file: string): ${n.store} {
  if (!existsSync(file)) return new ${n.store}();
  return ${n.store}.from(JSON.parse(readFileSync(file, 'utf8')) as ${n.type}[]);
}

function save(file: string, store: ${n.store}): void {
  writeFileSync(file, JSON.stringify(store.list(), null, 2) + '\\n');
}

/** Runs one command against the data file; returns the exit code (0 ok, 1 not found or invalid, 2 usage). */
export function run(argv: string[], file: string, io: Io): number {
  const [command, ...args] = argv;
  const store = load(file);
  switch (command) {
${
  has(spec, 'create')
    ? `    case 'add': {
      const flags = parseFlags(args);
      if (!flags.ok) return usage(io, flags.error);
      const input = ${n.parseInput}(flags.value);
      if (!input.ok) return invalid(io, input.errors);
      const created = store.create(input.value);
      save(file, store);
      io.out(JSON.stringify(created));
      return 0;
    }
`
    : ''
}${
    has(spec, 'list')
      ? `    case 'list':
      for (const item of store.list()) io.out(JSON.stringify(item));
      return 0;
`
      : ''
  }${
    has(spec, 'read')
      ? `    case 'show': {
      const found = args[0] === undefined ? undefined : store.get(args[0]);
      if (args[0] === undefined) return usage(io, 'show needs an id');
      if (!found) return notFound(io, args[0]);
      io.out(JSON.stringify(found));
      return 0;
    }
`
      : ''
  }${
    has(spec, 'update')
      ? `    case 'update': {
      const [id, ...rest] = args;
      if (id === undefined) return usage(io, 'update needs an id');
      const flags = parseFlags(rest);
      if (!flags.ok) return usage(io, flags.error);
      const patch = ${n.parsePatch}(flags.value);
      if (!patch.ok) return invalid(io, patch.errors);
      const updated = store.update(id, patch.value);
      if (!updated) return notFound(io, id);
      save(file, store);
      io.out(JSON.stringify(updated));
      return 0;
    }
`
      : ''
  }${
    has(spec, 'delete')
      ? `    case 'remove': {
      if (args[0] === undefined) return usage(io, 'remove needs an id');
      if (!store.remove(args[0])) return notFound(io, args[0]);
      save(file, store);
      io.out('removed ' + args[0]);
      return 0;
    }
`
      : ''
  }    case 'help':
    case undefined:
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      return usage(io, 'unknown command ' + command + ' (commands: ${commands.join(', ')}, help)');
  }
}

function usage(io: Io, problem: string): number {
  io.err(problem);
  io.err(USAGE);
  return 2;
}
${
  has(spec, 'create') || has(spec, 'update')
    ? `
function invalid(io: Io, errors: string[]): number {
  for (const error of errors) io.err(error);
  return 1;
}
`
    : ''
}${
    has(spec, 'read') || has(spec, 'update') || has(spec, 'delete')
      ? `
function notFound(io: Io, id: string): number {
  io.err('${n.label} ' + id + ' not found');
  return 1;
}
`
      : ''
  }`;
  const main = `#!/usr/bin/env node
${header(spec.kind)}import { run } from './cli';

process.exitCode = run(process.argv.slice(2), process.env.${envVar} ?? '${kebab(spec.entity.pluralWords)}.json', {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
`;
  return [
    entityModule(spec.kind, spec.entity),
    storeModule(spec.kind, spec.entity),
    { path: 'src/cli.ts', content: cli, language: 'typescript' },
    { path: 'src/main.ts', content: main, language: 'typescript' },
  ];
}

function flagArgs(spec: OfflineSpec, variant: number): string {
  const sample = sampleObject(spec.entity, variant);
  return spec.entity.fields
    .map((field) => `'${flagOf(field)}', ${JSON.stringify(String(sample[field.name]))}`)
    .join(', ');
}

/** test/cli.test.ts: each command against a temporary data file, plus usage and validation errors. */
export function cliToolTests(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const sample = JSON.stringify(sampleObject(spec.entity));
  const first = spec.entity.fields[0]!;
  const other = sampleObject(spec.entity, 1)[first.name];
  const tests: string[] = [];
  const seed = has(spec, 'create')
    ? `const [created] = cli('add', ${flagArgs(spec, 0)}).lines.map((line) => JSON.parse(line) as ${n.type});`
    : `const created = ${n.store}.from([]).create(${sample});\n  writeFileSync(file, JSON.stringify([created]));`;
  if (has(spec, 'create')) {
    tests.push(`test('add stores a ${n.label} in the data file and prints it', () => {
  const result = cli('add', ${flagArgs(spec, 0)});
  assert.equal(result.code, 0, result.errors.join('\\n'));
  const printed = JSON.parse(result.lines[0]!) as ${n.type};
  assert.deepEqual({ ...printed, id: undefined }, { ...${sample}, id: undefined });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), [printed]);
});

test('add refuses missing fields and unknown options', () => {
  const missing = cli('add');
  assert.equal(missing.code, 1);
${spec.entity.fields.map((f) => `  assert.ok(missing.errors.includes('${f.name}: is required'));`).join('\n')}
  assert.equal(cli('add', '--nonsense', 'x').code, 2);
});`);
  }
  if (has(spec, 'list')) {
    tests.push(`test('list prints one JSON line per ${n.label}', () => {
  ${seed}
  const result = cli('list');
  assert.equal(result.code, 0);
  assert.deepEqual(result.lines.map((line) => JSON.parse(line) as ${n.type}), [created]);
});`);
  }
  if (has(spec, 'read')) {
    tests.push(`test('show prints one ${n.label}, or fails with 1 for an unknown id', () => {
  ${seed}
  assert.deepEqual(JSON.parse(cli('show', created!.id).lines[0]!), created);
  const unknown = cli('show', '999');
  assert.equal(unknown.code, 1);
  assert.match(unknown.errors[0]!, /not found/);
});`);
  }
  if (has(spec, 'update')) {
    tests.push(`test('update changes the given fields and keeps the rest', () => {
  ${seed}
  const result = cli('update', created!.id, '${flagOf(first)}', ${JSON.stringify(String(other))});
  assert.equal(result.code, 0, result.errors.join('\\n'));
  assert.deepEqual(JSON.parse(result.lines[0]!), { ...created, ${first.name}: ${JSON.stringify(other)} });
  assert.equal(cli('update', created!.id).code, 1);
});`);
  }
  if (has(spec, 'delete')) {
    tests.push(`test('remove deletes the ${n.label} from the data file', () => {
  ${seed}
  assert.equal(cli('remove', created!.id).code, 0);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), []);
  assert.equal(cli('remove', created!.id).code, 1);
});`);
  }
  tests.push(`test('no command prints usage and exits 2; an unknown one names the commands', () => {
  assert.equal(cli().code, 2);
  const unknown = cli('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.errors[0]!, /unknown command frobnicate/);
});`);
  const body = tests.join('\n\n');
  const content = `${header(spec.kind)}import { beforeEach, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync${/readFileSync/.test(body) ? ', readFileSync' : ''}${/writeFileSync/.test(body) ? ', writeFileSync' : ''} } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli';
${/as [A-Z]\w* *\)|as [A-Z]\w*\)/.test(body) || body.includes(`as ${n.type}`) ? `import type { ${n.type} } from '../src/${n.module}';\n` : ''}${body.includes(`${n.store}.from`) ? `import { ${n.store} } from '../src/${n.storeModule}';\n` : ''}
let file = '';

beforeEach(() => {
  file = join(mkdtempSync(join(tmpdir(), '${spec.projectName}-')), 'data.json');
});

/** Runs the CLI in-process and collects what it printed. */
function cli(...argv: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = run(argv, file, { out: (line) => lines.push(line), err: (line) => errors.push(line) });
  return { code, lines, errors };
}

${body}
`;
  return [{ path: 'test/cli.test.ts', content, language: 'typescript' }];
}

export function cliToolUsage(spec: OfflineSpec): string[] {
  const sample = sampleObject(spec.entity);
  const add = spec.entity.fields.map((f) => `${flagOf(f)} ${JSON.stringify(String(sample[f.name]))}`).join(' ');
  return [
    '```sh',
    'npm run build',
    ...(has(spec, 'create') ? [`node dist/src/main.js add ${add}`] : []),
    ...(has(spec, 'list') ? ['node dist/src/main.js list'] : []),
    ...(has(spec, 'read') ? ['node dist/src/main.js show 1'] : []),
    ...(has(spec, 'update')
      ? [
          `node dist/src/main.js update 1 ${flagOf(spec.entity.fields[0]!)} ${JSON.stringify(String(sample[spec.entity.fields[0]!.name]))}`,
        ]
      : []),
    ...(has(spec, 'delete') ? ['node dist/src/main.js remove 1'] : []),
    '```',
    '',
    `Records are kept as JSON in \`$${spec.entity.pluralWords.join('_').toUpperCase()}_FILE\` (default \`./${kebab(spec.entity.pluralWords)}.json\`). Exit codes: 0 ok, 1 not found or invalid, 2 usage.`,
  ];
}
