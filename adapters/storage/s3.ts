import type { Readable } from 'node:stream';
import { Client } from 'minio';
import { withSpan } from '../telemetry/tracing';

export interface S3Settings {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

export interface StoredObject {
  key: string;
  size: number;
  metadata: Record<string, string>;
}

/** Object storage for artifacts and capsules: S3, MinIO or SeaweedFS through the `minio` client. */
export class ObjectStore {
  readonly bucket: string;
  private readonly client: Client;

  constructor(settings: S3Settings) {
    const url = new URL(settings.endpoint);
    const useSSL = url.protocol === 'https:';
    this.bucket = settings.bucket;
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      region: settings.region,
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      pathStyle: true, // SeaweedFS and most self-hosted stores have no virtual-host DNS.
    });
  }

  async put(key: string, body: Buffer | string, metadata: Record<string, string> = {}): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    await withSpan('s3.put', () => this.client.putObject(this.bucket, key, data, data.length, metadata), { key });
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.put(key, JSON.stringify(value, null, 2), { 'Content-Type': 'application/json' });
  }

  async getBuffer(key: string): Promise<Buffer> {
    return withSpan(
      's3.get',
      async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of await this.client.getObject(this.bucket, key)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      },
      { key },
    );
  }

  async getJson<T>(key: string): Promise<T> {
    return JSON.parse((await this.getBuffer(key)).toString('utf8')) as T;
  }

  async stream(key: string): Promise<Readable> {
    return withSpan('s3.stream', () => this.client.getObject(this.bucket, key), { key });
  }

  /** `length` bytes from `offset` as a stream (length > 0: the client reads 0 as "to the end"). */
  async streamRange(key: string, offset: number, length: number): Promise<Readable> {
    if (!(length > 0)) throw new RangeError(`streamRange needs a positive length, got ${length}`);
    return this.client.getPartialObject(this.bucket, key, offset, length);
  }

  /** `length` bytes from `offset`, read into memory: for small slices only (e.g. an object's last bytes). */
  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.streamRange(key, offset, length)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The object's size and user metadata, or undefined when it does not exist. */
  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const stat = await withSpan('s3.stat', () => this.client.statObject(this.bucket, key), { key });
      return { key, size: stat.size, metadata: normaliseMetadata(stat.metaData) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async bucketExists(): Promise<boolean> {
    return this.client.bucketExists(this.bucket);
  }
}

function normaliseMetadata(metadata: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key.toLowerCase(), String(value)]));
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey';
}
