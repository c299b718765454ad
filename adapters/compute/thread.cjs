// A compute thread: loads the task module and runs one named task per call. Tasks are pure functions
// of structured-cloneable input.
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');

if (workerData.module.endsWith('.ts')) compileTypeScriptInProcess();
const tasks = require(workerData.module);

module.exports = ({ task, input }) => tasks[task](input);

/**
 * TypeScript sources (development, tests: no build step) are compiled here with swc's in-process
 * compiler. Not tsx: its esbuild service is a child process of this thread, and a thread ended by the
 * pool leaves that child a zombie nobody collects.
 */
function compileTypeScriptInProcess() {
  const { transformSync } = require('@swc/core');
  require.extensions['.ts'] = (module, filename) => {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      sourceMaps: 'inline',
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
}
