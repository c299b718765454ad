import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { KEEP_ALIVE_TIMEOUT_MS, listen } from '../api/listen';
import { ApiClient, ApiUnreachable } from '../cli/api-client';

test('the API keeps idle connections longer than clients and load balancers do (60 s)', async () => {
  const server = await listen(express(), 0, '127.0.0.1');
  try {
    expect(server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

/** An HTTP server that resets the first connection as soon as a request arrives, then answers normally. */
async function resettingServer(): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((socket: Socket) => {
    socket.once('data', () => {
      requests += 1;
      if (requests === 1) return socket.resetAndDestroy();
      const body = JSON.stringify({ ok: true });
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, requests: () => requests };
}

test.each([
  ['a GET', (c: ApiClient) => c.get('/health')],
  [
    'a POST with an Idempotency-Key',
    (c: ApiClient) => c.post('/intents', {}, { headers: { 'Idempotency-Key': 'k1' } }),
  ],
])('the CLI sends %s once more when the connection is reset under it', async (_name, send) => {
  const { server, url, requests } = await resettingServer();
  try {
    await expect(send(new ApiClient(url))).resolves.toMatchObject({ status: 200, body: { ok: true } });
    expect(requests()).toBe(2);
  } finally {
    server.close();
  }
});

test('the CLI never repeats a request that is not idempotent (a decision): it reports the reset', async () => {
  const { server, url, requests } = await resettingServer();
  try {
    await expect(new ApiClient(url).post('/intents/x/decision', { decision: 'approve' })).rejects.toBeInstanceOf(
      ApiUnreachable,
    );
    expect(requests()).toBe(1);
  } finally {
    server.close();
  }
});
