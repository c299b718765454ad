import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A chat completion request as the scripted server received it over HTTP. */
export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
    [key: string]: unknown;
  };
}

/** What the server answers: a completion, an HTTP error, or nothing at all (a hung request). */
export type ScriptedReply =
  | {
      content: string;
      usage?: { prompt_tokens: number; completion_tokens: number };
      finishReason?: string;
      delayMs?: number;
    }
  | { status: number; error: { message: string; type?: string; code?: string }; headers?: Record<string, string> }
  | { hang: true };

export type Responder = (request: RecordedRequest) => ScriptedReply;

/** A completion whose content is `value` as JSON. */
export const json = (value: unknown, usage?: { prompt_tokens: number; completion_tokens: number }): ScriptedReply => ({
  content: JSON.stringify(value),
  ...(usage && { usage }),
});

/**
 * An OpenAI-compatible chat completions server for tests: real HTTP, answering from a queue of
 * scripted replies (then from `responder`), recording every request. The real `openai` client talks
 * to it exactly as it would to OpenAI, Azure or a local server.
 */
export class ScriptedLlm {
  readonly requests: RecordedRequest[] = [];
  /** Answers once the queue is empty; by default, an error saying nothing was scripted. */
  responder: Responder = () => ({ status: 500, error: { message: 'no scripted reply left' } });
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401 as OpenAI answers it. */
  apiKey?: string;
  /** Answers `/embeddings` requests: a vector per input text (default: a fixed 8-number vector from the text). */
  embed: (text: string) => number[] = (text) =>
    Array.from({ length: 8 }, (_, i) => [...text].reduce((sum, c) => sum + ((c.charCodeAt(0) * (i + 1)) % 7), 1));
  /** Requests being answered right now, and the most ever at once (to check concurrency limits). */
  inFlight = 0;
  peakInFlight = 0;
  private readonly queue: ScriptedReply[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<ScriptedLlm> {
    const server = createServer();
    const llm = new ScriptedLlm(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void llm.answer(req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    server.on('connection', (socket) => {
      llm.sockets.add(socket);
      socket.on('close', () => llm.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return llm;
  }

  /** The base URL to configure (`…/v1`, as for any OpenAI-compatible server). */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  enqueue(...replies: ScriptedReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Requests whose JSON schema (response_format) has this name, e.g. `plan` or `files_codegen`. */
  requestsFor(schemaName: string): RecordedRequest[] {
    return this.requests.filter((r) => r.body.response_format?.json_schema?.name === schemaName);
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.peakInFlight = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** OpenAI's embeddings endpoint: scripted errors from the queue apply; otherwise `embed` answers. */
  private answerEmbeddings(request: RecordedRequest, res: ServerResponse): void {
    const queued = this.queue[0];
    if (queued && 'status' in queued) {
      this.queue.shift();
      return send(res, queued.status, { error: { type: 'server_error', ...queued.error } }, queued.headers);
    }
    const input = request.body.input as string | string[];
    const texts = Array.isArray(input) ? input : [input];
    send(res, 200, {
      object: 'list',
      model: request.body.model,
      data: texts.map((text, index) => ({ object: 'embedding', index, embedding: this.embed(text) })),
      usage: { prompt_tokens: texts.reduce((sum, t) => sum + Math.ceil(t.length / 4), 0), total_tokens: 0 },
    });
  }

  private async answer(path: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): Promise<void> {
    const request: RecordedRequest = { path, headers, body: JSON.parse(raw || '{}') as RecordedRequest['body'] };
    this.requests.push(request);
    if (path.endsWith('/embeddings')) return this.answerEmbeddings(request, res);
    if (!path.endsWith('/chat/completions')) return send(res, 404, { error: { message: `no route ${path}` } });
    if (this.apiKey && headers.authorization !== `Bearer ${this.apiKey}`) {
      const shown = String(headers.authorization ?? '').replace(/^Bearer /, '');
      // OpenAI echoes part of the key it refused; the platform must not pass that on.
      return send(res, 401, {
        error: {
          message: `Incorrect API key provided: ${shown.slice(0, 6)}****${shown.slice(-4)}.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      });
    }
    const reply = this.queue.shift() ?? this.responder(request);
    if ('hang' in reply) return; // never answers: the client's timeout has to end it
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      if ('status' in reply)
        return send(res, reply.status, { error: { type: 'server_error', ...reply.error } }, reply.headers);
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      const promptChars = request.body.messages.reduce((sum, m) => sum + m.content.length, 0);
      const usage = reply.usage ?? {
        prompt_tokens: Math.ceil(promptChars / 4),
        completion_tokens: Math.ceil(reply.content.length / 4),
      };
      send(res, 200, {
        id: `chatcmpl-${this.requests.length}`,
        object: 'chat.completion',
        created: 1_700_000_000,
        model: request.body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: reply.content },
            finish_reason: reply.finishReason ?? 'stop',
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      });
    } finally {
      this.inFlight--;
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
