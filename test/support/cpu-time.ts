/**
 * CPU milliseconds this process spent since `since` (from process.cpuUsage()). A scan's bound is asserted on
 * CPU time, not wall time: beside a CPU hog the wall clock also counts time spent waiting for a core.
 */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}
