// A compute thread: loads the task module (TypeScript through tsx, whatever the host: tsx, jest or node)
// and runs one named task per call. Tasks are pure functions of structured-cloneable input.
const { workerData } = require('node:worker_threads');

if (workerData.module.endsWith('.ts')) require('tsx/cjs/api').register();
const tasks = require(workerData.module);

module.exports = ({ task, input }) => tasks[task](input);
