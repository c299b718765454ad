import { createConnection, createServer } from 'node:net';

/** A host and port, as parsed from TEMPORAL_ADDRESS, S3_ENDPOINT, TEMPORAL_UI_URL or DATABASE_URL. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port` (TEMPORAL_ADDRESS is validated to this shape by config). */
export function parseHostPort(address: string): HostPort {
  const match = /^([^:\s]+):(\d+)$/.exec(address);
  if (!match?.[1] || !match[2]) throw new Error(`"${address}" is not host:port`);
  return { host: match[1], port: Number(match[2]) };
}

/** Host and port of an http(s) URL, filling in the scheme's default port. */
export function parseUrlHostPort(url: string): HostPort & { secure: boolean } {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsed.port ? Number(parsed.port) : secure ? 443 : 80, secure };
}

/** True for names and addresses that only this machine can reach: those we may start a server on. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The literal address a local server should bind to; `localhost` becomes IPv4 so clients and server agree. */
export function bindAddressFor(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

/** True when a TCP connection to host:port succeeds within timeoutMs. */
export function canConnect({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const finish = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** True when nothing is bound to host:port (tested by binding it, which also catches 0.0.0.0 listeners). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws one message listing every port of `ports` already taken, so a clash is fixed in one go. */
export async function assertPortsFree(host: string, ports: Record<string, number>, fixHint: string): Promise<void> {
  const busy: string[] = [];
  for (const [role, port] of Object.entries(ports)) {
    if (!(await isPortFree(host, port))) busy.push(`${role} ${host}:${port}`);
  }
  if (busy.length > 0) throw new Error(`Port(s) already in use: ${busy.join(', ')}. ${fixHint}`);
}
