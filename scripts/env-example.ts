import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderEnvExample } from '../config/env-example';

/**
 * Writes `.env.example` from the setting declarations (config/setting.ts).
 *   npx tsx scripts/env-example.ts          rewrite the file
 *   npx tsx scripts/env-example.ts --check  exit 1 when the file is out of date
 */

const file = resolve(__dirname, '..', '.env.example');
const rendered = renderEnvExample();
const current = (() => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
})();

if (process.argv.includes('--check')) {
  if (current !== rendered) {
    console.error('.env.example is out of date with the setting declarations: run `npm run env:example`.');
    process.exit(1);
  }
  console.log('.env.example is up to date.');
} else if (current === rendered) {
  console.log('.env.example is up to date.');
} else {
  writeFileSync(file, rendered);
  console.log('Wrote .env.example.');
}
