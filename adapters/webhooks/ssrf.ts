import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { WebhookConfig } from '../../config/webhooks';

// SSRF guard for webhook URLs: https only (unless allowed), and no target inside the deployment's own
// networks (unless allowed). Checked at creation and again at every attempt (DNS can change); the request
// then connects to the very address checked here, so a second resolution cannot swap it.

export type TargetPolicy = Pick<WebhookConfig, 'allowPrivateTargets' | 'allowHttp'>;

/** A URL the policy refuses: the subscription can never deliver there. */
export class WebhookTargetRefused extends Error {
  override readonly name = 'WebhookTargetRefused';
}

/** A host that does not resolve now (it may later). */
export class WebhookTargetUnresolved extends Error {
  override readonly name = 'WebhookTargetUnresolved';
}

const LOOKUP_TIMEOUT_MS = 5_000;

/** Parses a webhook URL and checks its form: scheme, no credentials. */
export function parseWebhookUrl(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetRefused('is not an absolute URL');
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new WebhookTargetRefused(`must be ${policy.allowHttp ? 'an http or https' : 'an https'} URL`);
  }
  if (url.username || url.password) {
    throw new WebhookTargetRefused('must not carry credentials: send them as a header instead');
  }
  if (!url.hostname) throw new WebhookTargetRefused('must name a host');
  return url;
}

export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
}

/** Resolves the URL's host and checks every address it has; returns the one to connect to. */
export async function resolveWebhookTarget(url: URL, policy: TargetPolicy): Promise<ResolvedTarget> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await resolve(host);
  if (!policy.allowPrivateTargets) {
    for (const { address } of addresses) {
      const range = forbiddenRange(address);
      if (range) {
        throw new WebhookTargetRefused(
          `${literal ? host : `${host} resolves to ${address}, which`} is a ${range} address (internal targets are refused)`,
        );
      }
    }
  }
  const [first] = addresses;
  return { address: first!.address, family: first!.family === 6 ? 6 : 4 };
}

async function resolve(host: string): Promise<{ address: string; family: number }[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WebhookTargetUnresolved(`${host} did not resolve within ${LOOKUP_TIMEOUT_MS} ms`)),
      LOOKUP_TIMEOUT_MS,
    );
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    if (found.length === 0) throw new WebhookTargetUnresolved(`${host} has no address`);
    return found;
  } catch (error) {
    if (error instanceof WebhookTargetUnresolved) throw error;
    throw new WebhookTargetUnresolved(`${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    clearTimeout(timer);
  }
}

const V4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'this-network (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignment (192.0.0.0/24)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (198.18.0.0/15)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved or broadcast (240.0.0.0/4)'],
];

const V6_RANGES: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['fc00::', 7, 'unique-local'],
  ['ff00::', 8, 'multicast'],
];

/** IPv6 prefixes that embed an IPv4 address in their last 32 bits (mapped, compatible, NAT64), and 6to4's. */
const V4_IN_V6: [string, number, (ip: bigint) => number][] = [
  ['::ffff:0:0', 96, (ip) => Number(ip & 0xffffffffn)],
  ['::', 96, (ip) => Number(ip & 0xffffffffn)],
  ['64:ff9b::', 96, (ip) => Number(ip & 0xffffffffn)],
  ['2002::', 16, (ip) => Number((ip >> 80n) & 0xffffffffn)],
];

/** The kind of internal range an address is in, or undefined for a public one. */
export function forbiddenRange(address: string): string | undefined {
  if (isIP(address) === 4) return v4Range(v4ToInt(address));
  if (isIP(address) !== 6) return 'unparseable';
  const ip = v6ToBigInt(address);
  for (const [base, bits, embedded] of V4_IN_V6) {
    if (inV6(ip, base, bits)) {
      const range = v4Range(embedded(ip));
      // `::` and `::1` sit in the IPv4-compatible prefix too; they are judged as IPv6 below.
      if (range && !(base === '::' && ip < 0x10000n)) return `${range} (IPv4 inside IPv6)`;
    }
  }
  return V6_RANGES.find(([base, bits]) => inV6(ip, base, bits))?.[2];
}

function v4Range(ip: number): string | undefined {
  return V4_RANGES.find(([base, bits]) => bits === 0 || ip >>> (32 - bits) === v4ToInt(base) >>> (32 - bits))?.[2];
}

function v4ToInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0) >>> 0;
}

function inV6(ip: bigint, base: string, bits: number): boolean {
  const shift = BigInt(128 - bits);
  return ip >> shift === v6ToBigInt(base) >> shift;
}

/** An IPv6 address (compressed, or with a dotted IPv4 tail) as a 128-bit number. */
function v6ToBigInt(address: string): bigint {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4ToInt(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - (tail === undefined ? 0 : groups(tail).length);
  const all = [...groups(head), ...(tail === undefined ? [] : Array<string>(missing).fill('0')), ...groups(tail ?? '')];
  return all.reduce((n, group) => (n << 16n) + BigInt(parseInt(group, 16)), 0n);
}
