import { Router } from 'express';
import type { HealthCheck, HealthReport } from '../../contracts/views';
import type { ApiDependencies } from '../dependencies';

async function timed(probe: () => Promise<unknown>, timeoutMs = 3000): Promise<HealthCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
      ),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: ApiDependencies): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [temporal, database, s3] = await Promise.all([
      timed(() => deps.temporal.workflowService.getSystemInfo({})),
      timed(() => deps.db.$queryRaw`SELECT 1`),
      timed(async () => {
        if (!(await deps.store.bucketExists())) throw new Error(`bucket ${deps.store.bucket} does not exist`);
      }),
    ]);
    const ok = temporal.ok && database.ok && s3.ok;
    const report: HealthReport = { status: ok ? 'ok' : 'degraded', checks: { temporal, database, s3 } };
    res.status(ok ? 200 : 503).json(report);
  });
  return router;
}
