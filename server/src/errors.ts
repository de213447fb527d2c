import type { ApiError, ApiErrorCode, Diagnostic } from '@cellgraph/schema';

/**
 * Typed domain errors. Every error cellgraph means to show a user is a {@link CellgraphError}
 * of one {@link ErrorKind}; {@link ERROR_KINDS} is the one table that turns a kind into an
 * HTTP status, an API error code and a CLI exit code. Callers match with `instanceof`,
 * never on `name` or message text. (docs/errors.md lists the kinds for users.)
 */

/** CLI exit codes: 0 success, 1 the workflow failed or something cellgraph depends on did, 2 bad usage or input, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** What went wrong, as far as a caller needs to know to react. */
export type ErrorKind =
  | 'validation'
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'compile'
  | 'compile-limit'
  | 'integrity'
  | 'state'
  | 'store-unavailable'
  | 'upstream'
  | 'unavailable'
  | 'internal';

/** How one kind of error is answered. */
export interface ErrorAnswer {
  /** HTTP status of the API's answer. */
  status: number;
  /** `error.code` of the API's answer; clients branch on it. */
  code: ApiErrorCode;
  /** Exit code of the CLI. */
  exit: number;
  /**
   * Whether the message is shown as it is (API body, CLI line without a stack). Messages
   * of unexposed kinds stay in the server's log; the API answers with a reference only.
   */
  expose: boolean;
}

/** The one table: each kind's HTTP status, API error code and CLI exit code. */
export const ERROR_KINDS: Readonly<Record<ErrorKind, ErrorAnswer>> = {
  /** A field has the wrong type or value; `field` names it. */
  validation: { status: 400, code: 'invalid', exit: EXIT.usage, expose: true },
  /** The request's framing: malformed JSON, a content type other than JSON. */
  'bad-request': { status: 400, code: 'bad-request', exit: EXIT.usage, expose: true },
  /** Missing or wrong bearer token. */
  unauthorized: { status: 401, code: 'unauthorized', exit: EXIT.usage, expose: true },
  /** The caller sees the project but their role or token scopes do not allow the action. */
  forbidden: { status: 403, code: 'forbidden', exit: EXIT.usage, expose: true },
  /** Unknown run, task, workflow, version, schedule or stored file. */
  'not-found': { status: 404, code: 'not-found', exit: EXIT.usage, expose: true },
  /** A method the path does not have (the answer's Allow header lists those it has). */
  'method-not-allowed': { status: 405, code: 'method-not-allowed', exit: EXIT.usage, expose: true },
  /** The request does not fit the resource's state (retrying a running run, a taken id). */
  conflict: { status: 409, code: 'conflict', exit: EXIT.failed, expose: true },
  'payload-too-large': { status: 413, code: 'payload-too-large', exit: EXIT.usage, expose: true },
  /** A request body in another format than JSON. */
  'unsupported-media-type': { status: 415, code: 'bad-request', exit: EXIT.usage, expose: true },
  /** A compile ran past its time or memory limit; the message names the limit and its setting. */
  'compile-limit': { status: 422, code: 'compile-limit', exit: EXIT.failed, expose: true },
  /** The notebook does not compile; the error carries every diagnostic. */
  compile: { status: 422, code: 'compile-error', exit: EXIT.failed, expose: true },
  /** Stored bytes do not match their content hash: a corrupt store, never the caller's fault. */
  integrity: { status: 500, code: 'internal', exit: EXIT.failed, expose: false },
  /** The durable state could not be read or written (locked database, full disk). */
  state: { status: 503, code: 'unavailable', exit: EXIT.failed, expose: true },
  /** The artifact store could not be reached after its retries. */
  'store-unavailable': { status: 503, code: 'unavailable', exit: EXIT.failed, expose: true },
  /** A service cellgraph calls refused or failed: an image registry, the Kubernetes API. */
  upstream: { status: 503, code: 'unavailable', exit: EXIT.failed, expose: true },
  /** The server cannot take the request now (shutting down, disk full). */
  unavailable: { status: 503, code: 'unavailable', exit: EXIT.failed, expose: true },
  /** A bug: details only in the server's log. */
  internal: { status: 500, code: 'internal', exit: EXIT.failed, expose: false }
};

/** Base of every typed domain error: its kind decides status, code and exit code. */
export abstract class CellgraphError extends Error {
  abstract readonly kind: ErrorKind;
  /** The field at fault as a dotted path (`params.learningRate`, `body.cron`), when one is. */
  readonly field?: string;
  constructor(message: string, field?: string) {
    super(message);
    this.name = new.target.name;
    if (field !== undefined) this.field = field;
  }
}

/** Input that cellgraph refuses: a bad parameter, an unsafe key, a malformed document. */
export class ValidationError extends CellgraphError {
  readonly kind = 'validation';
}

/** A request's framing is wrong (malformed JSON, wrong content type): the HTTP edge's. */
export class BadRequestError extends CellgraphError {
  readonly kind = 'bad-request';
}

/** A request body larger than the server accepts. */
export class PayloadTooLargeError extends CellgraphError {
  readonly kind = 'payload-too-large';
}

/** A request body in another format than the route takes (JSON). */
export class UnsupportedMediaTypeError extends CellgraphError {
  readonly kind = 'unsupported-media-type';
}

/** Missing or wrong credentials for the cellgraph server. */
export class UnauthorizedError extends CellgraphError {
  readonly kind = 'unauthorized';
}

/** The caller may see what the request names but not do this to it (role or token scope). */
export class ForbiddenError extends CellgraphError {
  readonly kind = 'forbidden';
}

/** A request names something that does not exist: a run, a task, a stored file. */
export class NotFoundError extends CellgraphError {
  readonly kind = 'not-found';
}

/** A method the path does not have. */
export class MethodNotAllowedError extends CellgraphError {
  readonly kind = 'method-not-allowed';
}

/** The request does not fit the current state of what it names (a taken id, a run still running). */
export class ConflictError extends CellgraphError {
  readonly kind = 'conflict';
}

/** A notebook that does not compile, with every diagnostic, cell by cell. */
export class CompileError extends CellgraphError {
  readonly kind = 'compile';
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[],
    field?: string
  ) {
    super(message, field);
  }
}

/** Stored bytes do not match the content hash they are filed under. */
export class IntegrityError extends CellgraphError {
  readonly kind = 'integrity';
}

/** The durable state could not be read or written (locked database, full disk, ...). */
export class StateError extends CellgraphError {
  readonly kind = 'state';
}

/** The artifact store could not do its work (unreachable, refused, ...) after its retries. */
export class StoreUnavailableError extends CellgraphError {
  readonly kind = 'store-unavailable';
}

/** The server or a service it needs cannot take the request now (shutting down, disk full). */
export class UnavailableError extends CellgraphError {
  readonly kind = 'unavailable';
}

/**
 * A service cellgraph calls failed or refused (an image registry, the Kubernetes API).
 * Subclassed by the clients of those services, which add what they know (an HTTP status).
 */
export class UpstreamError extends CellgraphError {
  readonly kind = 'upstream';
}

/** The kind of any thrown value: a CellgraphError's own, else `internal` (a bug, or a failure nothing has named yet). */
export function errorKind(e: unknown): ErrorKind {
  return e instanceof CellgraphError ? e.kind : 'internal';
}

/** How any thrown value is answered (see {@link ERROR_KINDS}). */
export function errorAnswer(e: unknown): ErrorAnswer {
  return ERROR_KINDS[errorKind(e)];
}

/** The CLI's exit code for an error. */
export function exitCodeOf(e: unknown): number {
  return errorAnswer(e).exit;
}

/** The API code each kind is answered with is shared by several kinds; a client gets back the most general. */
const KIND_OF_CODE: Readonly<Record<ApiErrorCode, ErrorKind>> = {
  invalid: 'validation',
  'bad-request': 'bad-request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  'not-found': 'not-found',
  'method-not-allowed': 'method-not-allowed',
  conflict: 'conflict',
  'payload-too-large': 'payload-too-large',
  'compile-error': 'compile',
  'compile-limit': 'compile-limit',
  unavailable: 'unavailable',
  internal: 'internal'
};

/** The kind an API error code stands for (the inverse of the table's `code` column). */
export function kindOfCode(code: ApiErrorCode): ErrorKind {
  return KIND_OF_CODE[code];
}

/** A server's compile-limit answer, as a remote CLI sees it (the limit is named in the message). */
export class CompileLimitRemoteError extends CellgraphError {
  readonly kind = 'compile-limit';
}

/** A server's error for a bug: its message is the reference the server logged. */
export class RemoteInternalError extends CellgraphError {
  readonly kind = 'internal';
}

/**
 * A cellgraph server's error answer as the typed error the server threw (so a remote CLI
 * exits as a local one would): the kind from `error.code`, falling back to the HTTP status.
 * Matches the `ToError` signature of a route client.
 */
export function errorFromApi(status: number, error: ApiError['error'] | undefined, text: string): CellgraphError {
  const message = error?.message ?? `HTTP ${status}: ${text.slice(0, 200)}`;
  const kind = error !== undefined ? kindOfCode(error.code) : kindOfStatus(status);
  const field = error?.field;
  switch (kind) {
    case 'validation':
      return new ValidationError(message, field);
    case 'bad-request':
      return new BadRequestError(message, field);
    case 'method-not-allowed':
      return new MethodNotAllowedError(message, field);
    case 'payload-too-large':
      return new PayloadTooLargeError(message, field);
    case 'unauthorized':
      return new UnauthorizedError(`${message}; set CELLGRAPH_TOKEN to the server's token or a personal API token`, 'token');
    case 'forbidden':
      return new ForbiddenError(message, field);
    case 'not-found':
      return new NotFoundError(message, field);
    case 'conflict':
      return new ConflictError(message, field);
    case 'compile':
      return new CompileError(message, error?.diagnostics ?? [], field);
    case 'compile-limit':
      return new CompileLimitRemoteError(message, field);
    case 'internal':
      return new RemoteInternalError(`server: ${message}`);
    default:
      return new UnavailableError(`server: ${message}`);
  }
}

function kindOfStatus(status: number): ErrorKind {
  const found = (Object.keys(ERROR_KINDS) as ErrorKind[]).find((k) => ERROR_KINDS[k].status === status);
  if (found !== undefined) return kindOfCode(ERROR_KINDS[found].code);
  return status >= 400 && status < 500 ? 'bad-request' : 'unavailable';
}

/**
 * The compile pool cannot take a compile now: too many different compiles are waiting
 * (refused at once rather than queued without bound), or the server is stopping.
 */
export class CompileUnavailableError extends CellgraphError {
  readonly kind = 'unavailable';
}

/**
 * A compile ran past one of the limits that keep it from taking the server with it: its
 * time or its memory. `limit` names which, `setting` where it is configured.
 */
export class CompileLimitError extends CellgraphError {
  readonly kind = 'compile-limit';
  constructor(
    readonly limit: 'time' | 'memory',
    /** The limit's value, in seconds or MB. */
    readonly value: number,
    /** The setting that configures it (flag / environment variable). */
    readonly setting: string
  ) {
    super(
      limit === 'time'
        ? `the compile ran past its time limit of ${value} s (${setting}) and was stopped; nothing was run`
        : `the compile ran past its memory limit of ${value} MB (${setting}) and was stopped; nothing was run`,
      'notebook'
    );
  }
}
