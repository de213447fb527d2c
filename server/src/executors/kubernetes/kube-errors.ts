import { ApiException } from '@kubernetes/client-node';
import { UpstreamError } from '../../errors';

/**
 * A failed Kubernetes API call as a domain error: the HTTP status and the API server's
 * own reason and message (from its Status body), never the client library's exception
 * shape, which differs between client versions.
 */
export class KubernetesApiError extends UpstreamError {
  constructor(
    message: string,
    /** HTTP status, or undefined when no response arrived (connection refused, reset, TLS). */
    readonly status: number | undefined,
    /** The Status reason (`AlreadyExists`, `Invalid`, `Forbidden`, `TooManyRequests`, ...). */
    readonly reason?: string
  ) {
    super(message);
  }

  /** Worth retrying: throttled, server-side trouble, or no answer at all. */
  get transient(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500;
  }
}

/** Turns whatever the client threw into a KubernetesApiError. */
export function toKubeError(err: unknown): KubernetesApiError {
  if (err instanceof KubernetesApiError) return err;
  if (err instanceof ApiException) {
    const status = (err as ApiException<unknown>).code;
    const body = statusBody((err as ApiException<unknown>).body);
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${status}`;
    return new KubernetesApiError(message, status, typeof body?.reason === 'string' ? body.reason : undefined);
  }
  const e = err as { statusCode?: unknown; message?: unknown; code?: unknown };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : typeof e?.code === 'string' ? e.code : String(err);
  return new KubernetesApiError(message, status);
}

/**
 * The API server's Status object from an ApiException's body: the 1.x client hands over
 * the response text unparsed for statuses its generated code does not declare (nearly all).
 */
function statusBody(body: unknown): { message?: unknown; reason?: unknown } | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? body : undefined;
}
