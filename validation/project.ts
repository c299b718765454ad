import { posix } from 'node:path';

/** A generated file, decoded as text. Its content is untrusted input. */
export interface ProjectFile {
  path: string;
  content: string;
}

/** The generated project, in memory: every check reads it, none writes it. */
export interface Project {
  files: ProjectFile[];
}

// Larger files are skipped by content checks: generated sources are small, and regex scans must stay bounded.
export const MAX_SCANNED_BYTES = 512 * 1024;

const CODE_EXTENSIONS = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

export const isCodeFile = (path: string) => CODE_EXTENSIONS.test(path) && !path.endsWith('.d.ts');
export const isTypeScriptFile = (path: string) => /\.(ts|tsx|mts|cts)$/.test(path);

/** Paths must be relative, normalised and inside the project; anything else is refused. */
export function isSafeProjectPath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 255 &&
    !path.includes('\\') &&
    !path.includes('\0') &&
    !posix.isAbsolute(path) &&
    posix.normalize(path) === path &&
    !path.split('/').includes('..')
  );
}

/** Builds a project from raw files; binary files (NUL bytes) are left out, since no text check applies to them. */
export function projectFromFiles(files: { path: string; content: Buffer | string }[]): Project {
  const decoded: ProjectFile[] = [];
  for (const file of files) {
    if (!isSafeProjectPath(file.path)) throw new Error(`unsafe project path ${JSON.stringify(file.path)}`);
    const content = typeof file.content === 'string' ? file.content : file.content.toString('utf8');
    if (content.includes('\0')) continue;
    decoded.push({ path: file.path, content });
  }
  return { files: decoded.sort((a, b) => a.path.localeCompare(b.path)) };
}

/** Files small enough to scan. */
export const scannableFiles = (project: Project) =>
  project.files.filter((file) => Buffer.byteLength(file.content) <= MAX_SCANNED_BYTES);

/** 1-based line and column of a character offset. */
export function positionAt(content: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < content.length; i++) {
    if (content.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
