import { createSecretKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Section } from './setting';

// Payload encryption (docs/encryption.md): the AES-256-GCM keys every Temporal client and worker encrypts
// workflow payloads with, and who may call the codec server (the Web UI's origin). Off unless keys are set.

const encryption: Section = { title: 'Payload encryption and codec server' };

/** A key id: what payload metadata carries (`encryption-key-id`), so it must never be a secret. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const codecEnvShape = {
  PAYLOAD_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .meta({
      section: encryption,
      doc: [
        'AES-256 keys as `id:base64key` (32 random bytes each: `openssl rand -base64 32`), comma-separated.',
        'Set: every payload the API and workers write to Temporal is encrypted with the active key, and any',
        'listed key decrypts (rotation: add a new key, make it active, keep the old ones listed). Unset: off.',
      ],
    }),
  PAYLOAD_ENCRYPTION_ACTIVE: z.string().optional().meta({
    section: encryption,
    doc: 'The id of the key that encrypts new payloads; may be omitted when PAYLOAD_ENCRYPTION_KEYS has one key.',
  }),
  CODEC_CORS_ORIGINS: z
    .string()
    .optional()
    .meta({
      section: encryption,
      doc: [
        'Origins allowed to call the codec endpoints (/api/v1/codec/decode, /encode) from a browser, comma-separated.',
        'Default: the origin of TEMPORAL_UI_URL, and the same port on both localhost and 127.0.0.1 when local.',
      ],
    }),
};

type CodecEnv = z.output<z.ZodObject<typeof codecEnvShape>>;

/** The keys; held as KeyObjects so the material never shows in logs, inspection or JSON. */
export interface PayloadEncryptionConfig {
  activeKeyId: string;
  keys: ReadonlyMap<string, KeyObject>;
}

export interface CodecConfig {
  /** undefined: payloads are written as they are (encryption off). */
  encryption: PayloadEncryptionConfig | undefined;
  corsOrigins: string[];
}

type Issue = { variable: string; reason: string };

/** The codec's settings, or issues naming the variable (never a key's material). */
export function toCodecConfig(e: CodecEnv, uiUrl: string): { config: CodecConfig } | { issues: Issue[] } {
  const keys = parseKeys(e.PAYLOAD_ENCRYPTION_KEYS);
  if ('issues' in keys) return keys;
  const corsOrigins = parseOrigins(e.CODEC_CORS_ORIGINS, uiUrl);
  if ('issues' in corsOrigins) return corsOrigins;
  const active = e.PAYLOAD_ENCRYPTION_ACTIVE;
  if (!keys.map.size) {
    if (active !== undefined) {
      return {
        issues: [{ variable: 'PAYLOAD_ENCRYPTION_KEYS', reason: 'is required when PAYLOAD_ENCRYPTION_ACTIVE is set' }],
      };
    }
    return { config: { encryption: undefined, corsOrigins: corsOrigins.list } };
  }
  const activeKeyId = active ?? (keys.map.size === 1 ? [...keys.map.keys()][0]! : undefined);
  if (activeKeyId === undefined) {
    return { issues: [{ variable: 'PAYLOAD_ENCRYPTION_ACTIVE', reason: 'is required when several keys are listed' }] };
  }
  if (!keys.map.has(activeKeyId)) {
    return {
      issues: [
        {
          variable: 'PAYLOAD_ENCRYPTION_ACTIVE',
          reason: `names "${activeKeyId}", which is not in PAYLOAD_ENCRYPTION_KEYS (${[...keys.map.keys()].join(', ')})`,
        },
      ],
    };
  }
  return { config: { encryption: { activeKeyId, keys: keys.map }, corsOrigins: corsOrigins.list } };
}

function parseKeys(value: string | undefined): { map: Map<string, KeyObject> } | { issues: Issue[] } {
  const map = new Map<string, KeyObject>();
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const fail = (reason: string) => ({ issues: [{ variable: 'PAYLOAD_ENCRYPTION_KEYS', reason }] });
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const material = colon < 0 ? '' : entry.slice(colon + 1).trim();
    // Reasons name the entry by position and id only: the material is a secret.
    if (!KEY_ID.test(id)) {
      return fail(`entry ${index + 1} must be id:base64key with an id of letters, digits, '.', '_' or '-'`);
    }
    if (map.has(id)) return fail(`key id "${id}" is listed twice`);
    const bytes = BASE64.test(material) ? Buffer.from(material, 'base64') : undefined;
    if (bytes?.length !== 32) return fail(`key "${id}" must be 32 bytes in base64 (openssl rand -base64 32)`);
    map.set(id, createSecretKey(bytes));
  }
  return { map };
}

function parseOrigins(value: string | undefined, uiUrl: string): { list: string[] } | { issues: Issue[] } {
  if (value === undefined) {
    const ui = new URL(uiUrl);
    const twins = ['localhost', '127.0.0.1'].includes(ui.hostname) ? ['localhost', '127.0.0.1'] : [ui.hostname];
    return { list: twins.map((host) => `${ui.protocol}//${host}${ui.port ? `:${ui.port}` : ''}`) };
  }
  const list = value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      return {
        issues: [
          {
            variable: 'CODEC_CORS_ORIGINS',
            reason: `"${origin}" must be an origin such as https://temporal.example.com`,
          },
        ],
      };
    }
  }
  return { list };
}
