import { json, type RecordedRequest, type ScriptedReply } from '../support/scripted-llm';

// What the scripted "LLM" answers for a small greeter project: a plan and each agent's files.

export const greeterPlan = (chain = false) => ({
  projectName: 'greeter',
  tasks: [
    {
      id: 'core',
      type: 'codegen',
      description: 'Create package.json, tsconfig.json and src/greet.ts exporting greet(name: string): string',
      dependencies: [],
      priority: 10,
      outputs: ['package.json', 'tsconfig.json', 'src/greet.ts'],
    },
    {
      id: 'tests',
      type: 'test',
      description: 'Test greet',
      dependencies: ['core'],
      priority: 5,
      outputs: ['test/greet.test.ts'],
    },
    {
      id: 'readme',
      type: 'doc',
      description: 'Document greet',
      dependencies: [chain ? 'tests' : 'core'],
      priority: 1,
      outputs: ['README.md'],
    },
  ],
});

const file = (path: string, language: string, content: string) => ({ path, language, content });

export const greeterFiles: Record<string, { files: ReturnType<typeof file>[]; notes: string }> = {
  files_codegen: {
    files: [
      file(
        'package.json',
        'json',
        JSON.stringify({
          name: 'greeter',
          scripts: { test: 'tsc -p . && node --test dist/test/' },
          devDependencies: { typescript: '~5.9.3', '@types/node': '^20.19.0' },
        }),
      ),
      file(
        'tsconfig.json',
        'json',
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'commonjs',
            lib: ['ES2022'],
            types: ['node'],
            strict: true,
            outDir: 'dist',
            rootDir: '.',
          },
          include: ['src', 'test'],
        }),
      ),
      file(
        'src/greet.ts',
        'typescript',
        "export function greet(name: string): string {\n  return 'Hello, ' + name + '!';\n}\n",
      ),
    ],
    notes: 'greet in src/greet.ts',
  },
  files_test: {
    files: [
      file(
        'test/greet.test.ts',
        'typescript',
        "import { test } from 'node:test';\nimport { strict as assert } from 'node:assert';\nimport { greet } from '../src/greet';\n\ntest('greets by name', () => {\n  assert.equal(greet('Ada'), 'Hello, Ada!');\n});\n",
      ),
    ],
    notes: 'one test',
  },
  files_doc: {
    files: [file('README.md', 'markdown', '# greeter\n\n`greet(name)` returns a greeting.\n')],
    notes: 'README',
  },
};

/** Answers by the JSON schema the request names: the plan, or the files for the agent's task type. */
export function greeterResponder(
  options: {
    chain?: boolean;
    usage?: { prompt_tokens: number; completion_tokens: number };
    /**
     * Makes this test's project its own (a comment in src/greet.ts): the LLM response cache is shared by the
     * whole run and keyed by the prompt, so two files with the same project would share layer 1's review.
     */
    variant?: string;
  } = {},
) {
  return (request: RecordedRequest): ScriptedReply => {
    const name = request.body.response_format?.json_schema?.name ?? '';
    if (name === 'plan') return json(greeterPlan(options.chain), options.usage);
    // Layer 1's LLM review of the generated project: nothing to report.
    if (name === 'code_review') return json({ findings: [] }, options.usage);
    const files = options.variant && name === 'files_codegen' ? withVariant(options.variant) : greeterFiles[name];
    return files ? json(files, options.usage) : { status: 400, error: { message: `unexpected schema ${name}` } };
  };
}

function withVariant(variant: string) {
  const codegen = greeterFiles.files_codegen!;
  return {
    ...codegen,
    files: codegen.files.map((f) => (f.path === 'src/greet.ts' ? { ...f, content: `${f.content}// ${variant}\n` } : f)),
  };
}
