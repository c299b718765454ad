import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../adapters/temporal/codec';
import { ConfigError, loadConfig } from '../config';

// The codec and its keys without any service: encryption round trip, rotation, tampering, and the
// configuration refusing malformed keys by name, never echoing a key's material.

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const env = (vars: Record<string, string>) => ({ ...process.env, ...vars });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

function configError(vars: Record<string, string>): ConfigError {
  try {
    loadConfig(env(vars));
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${Object.keys(vars).join(', ')}`);
}

const plain = (data: string): Payload => ({
  metadata: { [METADATA_ENCODING_KEY]: new TextEncoder().encode('json/plain') },
  data: new TextEncoder().encode(data),
});

function codecWith(keys: Record<string, string>, active: string): AesGcmPayloadCodec {
  const { codec } = loadConfig(
    env({
      PAYLOAD_ENCRYPTION_KEYS: Object.entries(keys)
        .map(([id, key]) => `${id}:${key}`)
        .join(','),
      PAYLOAD_ENCRYPTION_ACTIVE: active,
    }),
  );
  return new AesGcmPayloadCodec(codec.encryption);
}

test('off unless keys are configured; one key is active without naming it', () => {
  expect(loadConfig(env({ PAYLOAD_ENCRYPTION_KEYS: '' })).codec.encryption).toBeUndefined();
  const one = loadConfig(env({ PAYLOAD_ENCRYPTION_KEYS: `2026-11:${keyA}` })).codec.encryption!;
  expect(one.activeKeyId).toBe('2026-11');
  expect([...one.keys.keys()]).toEqual(['2026-11']);
  // The material never shows when the config is printed or serialised.
  expect(inspect(one, { depth: 5 }) + JSON.stringify(one)).not.toContain(keyA);
});

test('a malformed key stops start-up naming the setting, without its material', () => {
  const short = randomBytes(16).toString('base64');
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PAYLOAD_ENCRYPTION_KEYS: `a:${short}` }, 'PAYLOAD_ENCRYPTION_KEYS', /key "a" must be 32 bytes in base64/],
    [{ PAYLOAD_ENCRYPTION_KEYS: `a:${keyA.slice(0, 20)}!!` }, 'PAYLOAD_ENCRYPTION_KEYS', /key "a" must be 32 bytes/],
    [{ PAYLOAD_ENCRYPTION_KEYS: keyA }, 'PAYLOAD_ENCRYPTION_KEYS', /entry 1 must be id:base64key/],
    [{ PAYLOAD_ENCRYPTION_KEYS: `a:${keyA},a:${keyB}` }, 'PAYLOAD_ENCRYPTION_KEYS', /"a" is listed twice/],
    [{ PAYLOAD_ENCRYPTION_KEYS: `a:${keyA},b:${keyB}` }, 'PAYLOAD_ENCRYPTION_ACTIVE', /required when several keys/],
    [
      { PAYLOAD_ENCRYPTION_KEYS: `a:${keyA}`, PAYLOAD_ENCRYPTION_ACTIVE: 'b' },
      'PAYLOAD_ENCRYPTION_ACTIVE',
      /names "b", which is not in PAYLOAD_ENCRYPTION_KEYS/,
    ],
    [{ PAYLOAD_ENCRYPTION_ACTIVE: 'a' }, 'PAYLOAD_ENCRYPTION_KEYS', /required when PAYLOAD_ENCRYPTION_ACTIVE/],
    [{ CODEC_CORS_ORIGINS: 'http://ui.example.com/path' }, 'CODEC_CORS_ORIGINS', /must be an origin/],
  ];
  for (const [vars, variable, reason] of cases) {
    const error = configError(vars);
    expect(error.issues).toEqual([{ variable, reason: expect.stringMatching(reason) }]);
    for (const secret of [keyA, keyB, short]) expect(error.message).not.toContain(secret);
  }
});

test("CORS origins default to the Web UI's, on both local host names", () => {
  const local = loadConfig(env({ TEMPORAL_UI_URL: 'http://127.0.0.1:8233' })).codec.corsOrigins;
  expect(local).toEqual(['http://localhost:8233', 'http://127.0.0.1:8233']);
  const remote = loadConfig(env({ TEMPORAL_UI_URL: 'https://temporal.example.com/' })).codec.corsOrigins;
  expect(remote).toEqual(['https://temporal.example.com']);
  const set = loadConfig(env({ CODEC_CORS_ORIGINS: 'https://a.example.com, http://b.example.com:8080' }));
  expect(set.codec.corsOrigins).toEqual(['https://a.example.com', 'http://b.example.com:8080']);
});

test('payloads are encrypted whole, labelled with the key id, and decrypt to what they were', async () => {
  const codec = codecWith({ a: keyA }, 'a');
  const original = plain('{"text":"A library module for invoices"}');
  const [sealed] = await codec.encode([original]);
  expect(text(sealed!.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
  expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('a');
  expect(text(sealed!.data)).not.toContain('invoices');
  expect(text(sealed!.data)).not.toContain('json/plain'); // the original metadata is inside the ciphertext
  const [opened] = await codec.decode([sealed!]);
  expect(text(opened!.data)).toBe(text(original.data));
  expect(text(opened!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
  // Same plaintext, fresh nonce: never the same ciphertext twice.
  const [again] = await codec.encode([original]);
  expect(Buffer.from(again!.data!).equals(Buffer.from(sealed!.data!))).toBe(false);
  // Unencrypted payloads (written before encryption was on) pass through.
  expect(await codec.decode([original])).toEqual([original]);
});

test('rotation: the new key encrypts, the old one still decrypts; a retired key removed does not', async () => {
  const before = codecWith({ a: keyA }, 'a');
  const after = codecWith({ a: keyA, b: keyB }, 'b');
  const [old] = await before.encode([plain('"written under a"')]);
  const [fresh] = await after.encode([plain('"written under b"')]);
  expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('b');
  expect((await after.decode([old!, fresh!])).map((p) => text(p.data))).toEqual([
    '"written under a"',
    '"written under b"',
  ]);
  const refused = (message: RegExp) => ({ name: 'PayloadDecryptionError', message: expect.stringMatching(message) });
  await expect(before.decode([fresh!])).rejects.toMatchObject(
    refused(/key "b", which is not in PAYLOAD_ENCRYPTION_KEYS/),
  );
  await expect(new AesGcmPayloadCodec(undefined).decode([fresh!])).rejects.toMatchObject(refused(/encryption is off/));
});

test('tampered ciphertext, a relabelled key id and a truncated payload are refused', async () => {
  const codec = codecWith({ a: keyA, b: keyB }, 'a');
  const [sealed] = await codec.encode([plain('"secret"')]);
  const flipped = Buffer.from(sealed!.data!);
  flipped[20] = flipped[20]! ^ 1;
  const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
  for (const bad of [{ ...sealed!, data: flipped }, relabelled, { ...sealed!, data: flipped.subarray(0, 10) }]) {
    await expect(codec.decode([bad])).rejects.toBeInstanceOf(PayloadDecryptionError);
  }
});
