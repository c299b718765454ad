import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { create as createTar } from 'tar';
import { CURATED_PACKAGES, curatedPackageDir, RUNNER_PATH, SANDBOX_ETC } from './layout';

const run = promisify(execFile);

/** Changes whenever buildLocalImage lays the image out differently. */
const IMAGE_LAYOUT = 'qlp-sandbox-image-3';

/** Tag of the locally built image: changes whenever the runner, its /etc, Node or the curated set changes. */
export async function localImageTag(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(IMAGE_LAYOUT);
  hash.update(await readFile(RUNNER_PATH));
  for (const file of (await readdir(SANDBOX_ETC)).sort()) hash.update(await readFile(join(SANDBOX_ETC, file)));
  hash.update(process.version);
  for (const name of CURATED_PACKAGES) hash.update(await readFile(join(curatedPackageDir(name), 'package.json')));
  return `qlp-sandbox:local-${hash.digest('hex').slice(0, 12)}`;
}

/**
 * Builds the sandbox image without pulling anything: a root filesystem holding this machine's Node binary
 * and the libraries it links, the runner and the curated packages, imported with `docker import`.
 * Production names a standard image instead (deploy/sandbox.Dockerfile) with the same layout.
 */
export async function buildLocalImage(docker: Docker, tag: string): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'qlp-sandbox-rootfs-'));
  try {
    await copyNode(root);
    await mkdir(join(root, 'opt/qlp/deps/node_modules'), { recursive: true });
    await cp(RUNNER_PATH, join(root, 'opt/qlp/runner.cjs'));
    for (const name of CURATED_PACKAGES) {
      await cp(curatedPackageDir(name), join(root, 'opt/qlp/deps/node_modules', name), { recursive: true });
    }
    await cp(SANDBOX_ETC, join(root, 'etc'), { recursive: true }); // the same /etc as under bubblewrap
    for (const dir of ['work', 'tmp', 'proc', 'dev', 'sys']) await mkdir(join(root, dir));
    // Docker gives a tmpfs mounted there the image directory's mode: writable by the steps (uid 10001) and by
    // the runner (root without CAP_DAC_OVERRIDE), which creates the project in /work.
    for (const dir of ['work', 'tmp']) await chmod(join(root, dir), 0o1777);
    const archive = createTar(
      {
        cwd: root,
        gzip: false,
        portable: true,
        // Portable entries lose group and other write permission; /work and /tmp must keep theirs.
        onWriteEntry: (entry) => {
          if (/^(\.\/)?(work|tmp)\/?$/.test(entry.path)) entry.portable = false;
        },
      },
      ['.'],
    );
    const [repo, version] = tag.split(':') as [string, string];
    const progress = await docker.importImage(archive as unknown as NodeJS.ReadableStream, { repo, tag: version });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())),
    );
    await removeOlderLocalImages(docker, tag);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Local images of earlier runners or Node versions; one still in use by a container stays. */
async function removeOlderLocalImages(docker: Docker, current: string): Promise<void> {
  const [repo] = current.split(':') as [string];
  for (const image of await docker.listImages({ filters: { reference: [`${repo}:local-*`] } })) {
    for (const tag of image.RepoTags ?? []) {
      if (tag !== current)
        await docker
          .getImage(tag)
          .remove()
          .catch(() => undefined);
    }
  }
}

/** Node and the shared libraries `ldd` says it needs, at the same paths. */
async function copyNode(root: string): Promise<void> {
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await cp(process.execPath, join(root, 'usr/local/bin/node'));
  // No secret of the worker's environment reaches a helper tool: a fixed PATH, nothing else.
  const { stdout } = await run('ldd', [process.execPath], { env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
  const libraries = [...stdout.matchAll(/(\/[^\s]+\.so[^\s]*)/g)].map((m) => m[1]!);
  for (const library of new Set(libraries)) {
    await mkdir(join(root, dirname(library)), { recursive: true });
    await cp(library, join(root, library), { dereference: true });
  }
}
