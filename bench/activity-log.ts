/** The bench workers' activity logs (BENCH_ACTIVITY_LOG, bench/bench-worker.ts): one JSON line per start and end. */
import { existsSync, readFileSync } from 'node:fs';

export interface LogLine {
  ev: 'start' | 'end' | 'error';
  type: string;
  wf: string;
  id: string;
  attempt: number;
  local: boolean;
  t: number;
  pid: number;
  /** The process's CPU time so far, ms: itself (all threads) and its waited-for children. */
  cpu: { self: number; children: number };
}

export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return []; // a line cut by kill -9
      }
    });
}

export const STAGES: Record<string, string> = {
  parseIntent: 'planning',
  runAgent: 'tasks',
  validateProject: 'validation',
  staticReview: 'validation',
  complianceReview: 'validation',
  dynamicValidation: 'validation',
  scoreValidation: 'validation',
  packageCapsule: 'packaging',
  recordIntent: 'readModel',
  recordTask: 'readModel',
};

/** The intent id of a workflow id: `intent-<id>` or `intent-<id>/task-<taskId>`. */
export const intentOf = (workflowId: string) => /^intent-([^/]+)/.exec(workflowId)?.[1];

export interface Run {
  type: string;
  wf: string;
  id: string;
  attempt: number;
  pid: number;
  start: LogLine;
  end?: LogLine;
}

/** Starts paired with their end (or error); a start without one was cut short (killed). */
export function runs(lines: LogLine[]): Run[] {
  const open = new Map<string, Run>();
  const out: Run[] = [];
  for (const line of lines) {
    const key = `${line.pid}|${line.wf}|${line.id}|${line.attempt}|${line.type}`;
    if (line.ev === 'start') {
      const run: Run = { type: line.type, wf: line.wf, id: line.id, attempt: line.attempt, pid: line.pid, start: line };
      open.set(key, run);
      out.push(run);
    } else {
      const run = open.get(key);
      if (run) {
        run.end = line;
        open.delete(key);
      }
    }
  }
  return out;
}
