import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  AbortMultipartUploadCommand
} from '@aws-sdk/client-s3';
import type { ArtifactRef, StoreConfig } from '@cellgraph/schema';
import { IntegrityError, NotFoundError, StoreUnavailableError } from '../errors';
import { retry } from '../retry';
import { ArtifactStore, assertContentHash, assertSafeKey, sha256 } from './artifact-store';

type S3Config = Extract<StoreConfig, { kind: 's3' }>;

// The SDK warns on Node 20 about versions published after January 2027. cellgraph pins
// the SDK exactly, so the warning does not apply, and it would land in every task's log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Tuning, mostly for tests: retries and the multipart threshold. */
export interface S3StoreOptions {
  /**
   * Attempts per request inside the SDK, with its jittered exponential backoff between
   * them (default 8). They last anywhere from ~1.5 to ~5 s against an endpoint that is
   * away, so they alone do not ride out an outage: see `retryBudgetMs`.
   */
  maxAttempts?: number;
  /**
   * How long a request that cannot reach S3 (connection refused, reset, timed out; HTTP
   * 5xx) keeps being repeated, in ms from its first attempt (default 20 s): outages of a
   * few seconds, such as an S3 endpoint restarting, are ridden out whatever the SDK's
   * attempts added up to; longer ones fail with StoreUnavailableError after about this long.
   */
  retryBudgetMs?: number;
  /** Values larger than this go up as a multipart upload in parts of this size (default 8 MiB, S3's minimum is 5 MiB). */
  partSize?: number;
  /** Per-request timeout in ms (default 30 s). */
  requestTimeoutMs?: number;
}

/**
 * The artifact store on S3 or any S3-compatible server (MinIO, moto): the same layout as
 * the filesystem store under `s3://bucket/prefix/`, blobs content-addressed and checked
 * against their hash on read. Credentials come from the usual AWS chain (environment,
 * profile, instance role), never from cellgraph's own config.
 */
export class S3Store implements ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly where: string;
  private readonly retryBudgetMs: number;

  constructor(config: S3Config, options: S3StoreOptions = {}) {
    this.bucket = config.bucket;
    this.prefix = config.prefix ? `${config.prefix.replace(/\/+$/, '')}/` : '';
    if (this.prefix) assertSafeKey(this.prefix.slice(0, -1));
    this.partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 8 * 1024 * 1024);
    this.retryBudgetMs = options.retryBudgetMs ?? 20_000;
    this.where = `s3://${this.bucket}/${this.prefix}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      maxAttempts: options.maxAttempts ?? 8,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 }
    });
  }

  async putBlob(bytes: Buffer): Promise<ArtifactRef> {
    const hash = sha256(bytes);
    const key = this.blobKey(hash);
    // Content addressing makes an existing object final: same key, same bytes.
    if (!(await this.exists(key))) await this.put(key, bytes);
    return { hash, size: bytes.length };
  }

  async getBlob(ref: Pick<ArtifactRef, 'hash'>): Promise<Buffer> {
    const bytes = await this.get(this.blobKey(ref.hash), `blob ${ref.hash}`);
    if (sha256(bytes) !== ref.hash) throw new IntegrityError(`blob ${ref.hash} in ${this.where} is corrupt (content does not match its hash)`);
    return bytes;
  }

  hasBlob(hash: string): Promise<boolean> {
    return this.exists(this.blobKey(hash));
  }

  async putFile(key: string, bytes: Buffer | string): Promise<void> {
    assertSafeKey(key);
    // A single PUT (or a completed multipart upload) is atomic: readers see all or nothing.
    await this.put(this.prefix + key, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  async getFile(key: string): Promise<Buffer> {
    assertSafeKey(key);
    return this.get(this.prefix + key, key);
  }

  async hasFile(key: string): Promise<boolean> {
    assertSafeKey(key);
    return this.exists(this.prefix + key);
  }

  localPath(): string | undefined {
    return undefined;
  }

  /** Closes the HTTP connections (a CLI process exits sooner). */
  destroy(): void {
    this.client.destroy();
  }

  private blobKey(hash: string): string {
    const hex = assertContentHash(hash);
    return `${this.prefix}objects/sha256/${hex.slice(0, 2)}/${hex}`;
  }

  /**
   * Runs one request, again after a pause while S3 cannot be reached (reset, hang-up,
   * refused, timed out, 5xx), until `retryBudgetMs` is spent. The budget is in time, not in
   * attempts: the SDK's own attempts may all fall inside a two-second outage (its backoff
   * is jittered from 50 ms up), which is what failed runs while an S3 endpoint restarted.
   * Every request here is idempotent (content-addressed PUTs, GETs, HEADs), so repeating
   * one is safe.
   */
  private retrying<T>(request: () => Promise<T>): Promise<T> {
    let attempts = 0;
    return retry(
      async () => {
        try {
          return await request();
        } catch (e) {
          // The SDK counts only its own last round; the error then tells every attempt made.
          const metadata = (e as { $metadata?: { attempts?: number } }).$metadata;
          attempts += metadata?.attempts ?? 1;
          if (metadata !== undefined) metadata.attempts = attempts;
          throw e;
        }
      },
      { ...UNREACHABLE_RETRY, deadlineMs: this.retryBudgetMs }
    );
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.retrying(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw this.unavailable('HEAD', key, e);
    }
  }

  private async get(key: string, what: string): Promise<Buffer> {
    try {
      return await this.retrying(async () => {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        if (!res.Body) throw new Error('empty response body');
        return Buffer.from(await res.Body.transformToByteArray());
      });
    } catch (e) {
      if (isNotFound(e)) throw new NotFoundError(`${what} not found in the artifact store ${this.where}`);
      throw this.unavailable('GET', key, e);
    }
  }

  private async put(key: string, bytes: Buffer): Promise<void> {
    try {
      if (bytes.length <= this.partSize) {
        await this.retrying(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length })));
        return;
      }
      await this.retrying(() => this.multipart(key, bytes));
    } catch (e) {
      throw this.unavailable('PUT', key, e);
    }
  }

  /** Large values: parts uploaded one after another (each retried by the SDK), then completed; aborted on failure. */
  private async multipart(key: string, bytes: Buffer): Promise<void> {
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error('the server returned no upload id');
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let offset = 0, n = 1; offset < bytes.length; offset += this.partSize, n++) {
        const body = bytes.subarray(offset, Math.min(bytes.length, offset + this.partSize));
        const res = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.length }));
        if (!res.ETag) throw new Error(`part ${n} got no ETag`);
        parts.push({ ETag: res.ETag, PartNumber: n });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw e;
    }
  }

  private unavailable(op: string, key: string, e: unknown): Error {
    if (e instanceof StoreUnavailableError || e instanceof NotFoundError) return e;
    const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    const status = err.$metadata?.httpStatusCode ? ` (HTTP ${err.$metadata.httpStatusCode})` : '';
    const attempts = err.$metadata?.attempts ? ` after ${err.$metadata.attempts} attempt(s)` : '';
    return new StoreUnavailableError(`artifact store ${this.where}: ${op} ${key} failed${attempts}${status}: ${err.code ?? err.name ?? 'Error'}: ${err.message ?? String(e)}`);
  }
}

/** Repeating a request S3 did not answer: full-jitter waits, the cap doubling from 250 ms to 4 s, until the budget is spent. */
const UNREACHABLE_RETRY = { attempts: Infinity, baseMs: 250, maxMs: 4000, retryable: isUnreachable };

/**
 * S3 could not be reached or could not answer: the connection failed, or the server said
 * 5xx. Whether the SDK retried it already does not matter (its attempts are no measure of
 * time); any other answer (403, 404, 400) is final.
 */
function isUnreachable(e: unknown): boolean {
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  const text = `${err.name ?? ''} ${err.code ?? ''} ${err.message ?? ''}`;
  return /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|TimeoutError|NetworkingError|EAI_AGAIN/i.test(text);
}

function isNotFound(e: unknown): boolean {
  return e instanceof NotFound || e instanceof NoSuchKey || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}
