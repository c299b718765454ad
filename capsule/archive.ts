import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';

/**
 * A gzipped tar of `contents`, entries in `order`: portable and with a fixed mtime, so the archive
 * depends on its contents only, not on the machine or the time it was built on.
 */
export async function deterministicTarGz(
  contents: Map<string, Buffer>,
  order: string[],
  label: string,
): Promise<Buffer> {
  const workDir = await mkdtemp(join(tmpdir(), `qlp-capsule-${label}-`));
  try {
    for (const [path, content] of contents) {
      await mkdir(dirname(join(workDir, path)), { recursive: true });
      await writeFile(join(workDir, path), content);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of createTar({ gzip: true, cwd: workDir, portable: true, mtime: new Date(0) }, order)) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
