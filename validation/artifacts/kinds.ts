import { posix } from 'node:path';
import { isCodeFile } from '../project';
import { isDockerfile } from './dockerfile';
import { isGypFile } from './gyp';
import { shellDialect } from './shell';

/**
 * What judges a file: code goes to the compiler, linters and scanners; these kinds to the artefact rules
 * (JSON is read for embedded commands); prose and inert data need no judging; anything else is not assessed.
 */
export type ArtifactKind =
  'code' | 'package-json' | 'npmrc' | 'gyp' | 'dockerfile' | 'shell' | 'yaml' | 'json' | 'data' | 'prose' | 'unknown';

const PROSE_EXTENSIONS = new Set(['.md', '.markdown', '.txt', '.rst', '.adoc']);
const PROSE_NAMES =
  /^(license|licence|copying|notice|authors|contributors|contributing|changelog|readme|security|codeowners)([.-][\w.-]*)?$/i;
/** Files that configure tools without running anything: ignore lists, editor and version pins. */
const INERT_NAMES = new Set([
  '.gitignore',
  '.dockerignore',
  '.npmignore',
  '.prettierignore',
  '.eslintignore',
  '.gitattributes',
  '.editorconfig',
  '.nvmrc',
  '.node-version',
]);

export function artifactKind(path: string, content: string): ArtifactKind {
  const name = posix.basename(path);
  const extension = posix.extname(name).toLowerCase();
  if (name === 'package.json') return 'package-json';
  if (name === '.npmrc') return 'npmrc';
  if (isGypFile(path)) return 'gyp';
  if (isDockerfile(path)) return 'dockerfile';
  if (isCodeFile(path) || path.endsWith('.d.ts')) return 'code';
  if (shellDialect(path, content)) return 'shell';
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.json' || extension === '.jsonc') return 'json';
  if (PROSE_EXTENSIONS.has(extension) || PROSE_NAMES.test(name)) return 'prose';
  if (INERT_NAMES.has(name)) return 'data';
  return 'unknown';
}
