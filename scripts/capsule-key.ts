/**
 * Capsule signing keys of the local key directory (CAPSULE_SIGNING_KEY_DIR):
 *   npm run capsule-key -- rotate   a new key becomes active; the old ones stay, retired, for verification
 *   npm run capsule-key -- list     the keys the API serves (GET /api/v1/signing-keys)
 * Workers read the active key at start: restart them after a rotation.
 */
import { Command } from 'commander';
import { createDatabase } from '../adapters/db/client';
import { localKeyIds, rotateLocalKey } from '../adapters/signing/local-key';
import { listSigningKeys, registerSigningKey, retireKeys } from '../adapters/signing/registry';
import { loadConfigOrExit } from '../config';

async function main(): Promise<void> {
  const program = new Command('capsule-key').description('capsule signing keys');
  program.command('rotate').description('create a new signing key and make it the active one').action(rotate);
  program.command('list').description('list the registered signing keys').action(list);
  await program.parseAsync();
}

async function rotate(): Promise<void> {
  const config = loadConfigOrExit();
  const db = createDatabase(config.databaseUrl, { maxConnections: 1 });
  try {
    const { dir } = config.security.capsuleKeys;
    const signer = rotateLocalKey(dir);
    await registerSigningKey(db, signer);
    // The keys this directory held before: the ones this deployment's workers signed with until now.
    const retired = await retireKeys(
      db,
      localKeyIds(dir).filter((id) => id !== signer.keyId),
    );
    console.log(`active capsule signing key: ${signer.keyId} (${retired} earlier key(s) retired, still served)`);
    console.log('restart the workers so they sign with it');
  } finally {
    await db.$disconnect();
  }
}

async function list(): Promise<void> {
  const config = loadConfigOrExit();
  const db = createDatabase(config.databaseUrl, { maxConnections: 1 });
  try {
    for (const key of await listSigningKeys(db)) {
      console.log(`${key.keyId}  created ${key.createdAt}  ${key.retiredAt ? `retired ${key.retiredAt}` : 'active'}`);
    }
  } finally {
    await db.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error('capsule-key:', error instanceof Error ? error.message : error);
  process.exit(1);
});
