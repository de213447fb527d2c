import { z } from 'zod';
import { UpstreamError } from '../errors';
import { retry } from '../retry';
import type { RegistryCredentials } from './credentials';
import { digestOf } from './layer';
import { MediaTypes } from './oci-types';
import { registryHost } from './reference';

/** A registry answered with an error, or could not be reached; `status` is 0 when unreachable. */
export class RegistryError extends UpstreamError {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/** How to talk to one registry. */
export interface RegistryClientOptions {
  /** Host[:port] as in the image reference. */
  registry: string;
  /** Plain HTTP (also the default for localhost and 127.0.0.1, as docker does). */
  insecure?: boolean;
  credentials?: RegistryCredentials;
  /** Attempts per request on network errors and 5xx answers (default 4). */
  attempts?: number;
  /** Blobs larger than this go up in PATCH chunks of this size (default 16 MiB). */
  chunkSize?: number;
  /** Cap on the first retry's wait in ms (full jitter), doubled per retry up to 10 s (default 200). */
  retryDelayMs?: number;
}

/** Longest wait between two attempts of one request. */
const MAX_RETRY_DELAY_MS = 10_000;

const TokenAnswer = z.object({ token: z.string().optional(), access_token: z.string().optional() });

/** Parses `Bearer realm="...",service="...",scope="..."` (or Basic) challenges. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)="([^"]*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) params[m[1]] = m[2];
  return { scheme, params };
}

/**
 * A client for the OCI distribution API (v2), on Node's fetch. Handles the anonymous
 * and authenticated token flow (as Docker Hub does), basic auth, and retries network
 * errors and 5xx answers with backoff, restarting uploads from the start.
 */
export class RegistryClient {
  readonly base: string;
  private readonly attempts: number;
  private readonly chunkSize: number;
  private readonly retryDelayMs: number;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(private readonly options: RegistryClientOptions) {
    const host = registryHost(options.registry);
    const plain = options.insecure || /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
    this.base = `${plain ? 'http' : 'https'}://${host}`;
    this.attempts = options.attempts ?? 4;
    this.chunkSize = options.chunkSize ?? 16 * 1024 * 1024;
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  /** The manifest under a tag or digest, with its digest; undefined when absent. */
  async getManifest(repository: string, reference: string): Promise<{ mediaType: string; digest: string; bytes: Buffer } | undefined> {
    const accept = [MediaTypes.ociIndex, MediaTypes.ociManifest, MediaTypes.dockerList, MediaTypes.dockerManifest].join(', ');
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, repository, { headers: { accept }, allow: [404] });
    if (res.status === 404) return undefined;
    const bytes = Buffer.from(await res.arrayBuffer());
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0] || MediaTypes.ociManifest;
    return { mediaType, digest: res.headers.get('docker-content-digest') ?? digestOf(bytes), bytes };
  }

  /** The digest a tag points at, without downloading the manifest; undefined when absent. */
  async headManifest(repository: string, reference: string): Promise<string | undefined> {
    const accept = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerList].join(', ');
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, repository, { headers: { accept }, allow: [404] });
    return res.status === 404 ? undefined : (res.headers.get('docker-content-digest') ?? undefined);
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, repository, { allow: [404] });
    return res.status !== 404;
  }

  /** A whole blob, checked against its digest. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, repository, {});
    const bytes = Buffer.from(await res.arrayBuffer());
    if (digestOf(bytes) !== digest) throw new RegistryError(`blob ${digest} from ${this.options.registry}/${repository} does not match its digest`, res.status);
    return bytes;
  }

  /** Asks the registry to link a blob from another repository; false when it would not. */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const res = await this.request('POST', `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, repository, {
      allow: [202],
      extraScopes: [`repository:${from}:pull`]
    });
    if (res.status === 201) return true;
    // 202: no mount, an upload session was opened instead; abandon it (the registry expires it).
    return false;
  }

  /**
   * Uploads a blob: one PUT when small, PATCH chunks then PUT when large. A failure
   * restarts the whole upload with a new session (the registry discards the old one).
   */
  async uploadBlob(repository: string, digest: string, bytes: Buffer, onProgress?: (sent: number) => void): Promise<void> {
    await this.withRetries(`upload of ${digest}`, async () => {
      const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, repository, { allow: [202], retry: false });
      let location = this.location(start);
      if (bytes.length <= this.chunkSize) {
        await this.request('PUT', this.withDigest(location, digest), repository, {
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
          body: bytes,
          retry: false
        });
        onProgress?.(bytes.length);
        return;
      }
      for (let offset = 0; offset < bytes.length; offset += this.chunkSize) {
        const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + this.chunkSize));
        const res = await this.request('PATCH', location, repository, {
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
          body: chunk,
          allow: [202],
          retry: false
        });
        location = this.location(res);
        onProgress?.(offset + chunk.length);
      }
      await this.request('PUT', this.withDigest(location, digest), repository, { headers: { 'content-length': '0' }, retry: false });
    });
  }

  /** Pushes a manifest under a tag (or its digest); returns the digest the registry computed. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, repository, { headers: { 'content-type': mediaType }, body: bytes });
    return res.headers.get('docker-content-digest') ?? digestOf(bytes);
  }

  private location(res: Response): string {
    const loc = res.headers.get('location');
    if (!loc) throw new RegistryError(`${this.options.registry} opened an upload without a Location header`, res.status);
    return new URL(loc, this.base).toString();
  }

  private withDigest(location: string, digest: string): string {
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    return url.toString();
  }

  private async withRetries<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let made = 0;
    try {
      return await retry(
        (attempt) => {
          made = attempt;
          return fn();
        },
        { attempts: this.attempts, baseMs: this.retryDelayMs, maxMs: MAX_RETRY_DELAY_MS, retryable: (e) => !(e instanceof RegistryError) || e.status === 0 || e.status >= 500 }
      );
    } catch (e) {
      if (e instanceof RegistryError && made > 1) throw new RegistryError(`${what} failed after ${made} attempts: ${e.message}`, e.status);
      throw e;
    }
  }

  /** One API call: authenticates on a 401 challenge, retries transient failures unless told not to. */
  private async request(
    method: string,
    pathOrUrl: string,
    repository: string,
    opts: { headers?: Record<string, string>; body?: Buffer; allow?: number[]; retry?: boolean; extraScopes?: string[] }
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const scopes = [`repository:${repository}:${method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push'}`, ...(opts.extraScopes ?? [])];
    const once = async (): Promise<Response> => {
      for (let round = 0; round < 2; round++) {
        const headers: Record<string, string> = { ...opts.headers, ...this.authHeader(scopes) };
        let res: Response;
        try {
          res = await fetch(url, { method, headers, body: opts.body, redirect: 'follow', signal: AbortSignal.timeout(120_000) });
        } catch (e) {
          const cause = (e as { cause?: { code?: string; message?: string } }).cause;
          throw new RegistryError(`cannot reach ${this.options.registry} (${cause?.code ?? cause?.message ?? (e as Error).message}) for ${method} ${new URL(url).pathname}`, 0);
        }
        if (res.status === 401 && round === 0) {
          await res.arrayBuffer().catch(() => undefined);
          await this.authenticate(res.headers.get('www-authenticate') ?? '', scopes);
          continue;
        }
        if (res.ok || opts.allow?.includes(res.status)) return res;
        const text = (await res.text().catch(() => '')).slice(0, 300).trim();
        const hint = res.status === 401 || res.status === 403 ? ' (check the credentials: docker config.json or CELLGRAPH_REGISTRY_USERNAME/PASSWORD)' : '';
        throw new RegistryError(`${this.options.registry} answered ${res.status} to ${method} ${new URL(url).pathname}${text ? `: ${text}` : ''}${hint}`, res.status);
      }
      throw new RegistryError(`${this.options.registry} refused the credentials for ${method} ${new URL(url).pathname}`, 401);
    };
    return opts.retry === false ? once() : this.withRetries(`${method} ${new URL(url).pathname}`, once);
  }

  private authHeader(scopes: string[]): Record<string, string> {
    const token = this.tokens.get(scopes.join(' '));
    if (token) return { authorization: `Bearer ${token}` };
    if (this.basic && this.options.credentials) {
      const { username, password } = this.options.credentials;
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    return {};
  }

  private async authenticate(challenge: string, scopes: string[]): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      if (!this.options.credentials) throw new RegistryError(`${this.options.registry} requires a login (basic auth) and no credentials were found${' (docker config.json or CELLGRAPH_REGISTRY_USERNAME/PASSWORD)'}`, 401);
      this.basic = true;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new RegistryError(`${this.options.registry} sent an authentication challenge cellgraph does not understand: ${challenge || '(none)'}`, 401);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.options.credentials) {
      const { username, password } = this.options.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new RegistryError(`cannot reach the token service ${url.origin} of ${this.options.registry}: ${(e as Error).message}`, 0);
    }
    if (!res.ok) throw new RegistryError(`the token service of ${this.options.registry} answered ${res.status}${this.options.credentials ? '' : ' (no credentials were sent)'}`, res.status === 401 ? 401 : res.status);
    const answer = TokenAnswer.parse(await res.json());
    const token = answer.token ?? answer.access_token;
    if (!token) throw new RegistryError(`the token service of ${this.options.registry} returned no token`, 401);
    this.tokens.set(scopes.join(' '), token);
  }
}
