// A compute thread: loads the task module and runs one named task per call. Tasks are pure functions
// of structured-cloneable input.
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');

if (workerData.module.endsWith('.ts')) compileTypeScriptInProcess();
const tasks = require(workerData.module);

module.exports = ({ task, input }) => tasks[task](input);

/**
 * TypeScript sources (development, tests: no build step) are transpiled here with the TypeScript
 * compiler the checks load anyway: plain JavaScript, in this thread. Not tsx, whose esbuild service is a
 * child process of the thread (a thread ended by the pool leaves it a zombie nobody collects), and not
 * swc, whose native module crashes the process when a recycled thread loads it again.
 */
function compileTypeScriptInProcess() {
  const ts = require('typescript');
  const compilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    inlineSourceMap: true,
  };
  require.extensions['.ts'] = (module, filename) => {
    const source = readFileSync(filename, 'utf8');
    module._compile(ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText, filename);
  };
}
