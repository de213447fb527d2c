import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply } from 'fastify';
import type { ZodError } from 'zod';
import { ApiError, type ApiErrorCode, Diagnostic } from '@cellgraph/schema';
import {
  BadRequestError,
  CellgraphError,
  CompileError,
  ERROR_KINDS,
  type ErrorKind,
  PayloadTooLargeError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
  errorKind,
  kindOfCode
} from '../errors';
import { zodToValidationError } from '../zod-issue';

/**
 * An answer only the HTTP edge knows by its status (a Fastify framing error such as 414).
 * Its kind is its code's, so the CLI and logs treat it like every error of that kind; the
 * answer keeps the given status. Everything else throws the domain classes of errors.ts
 * (ValidationError, UnavailableError, ...), whose status comes from the table.
 */
export class HttpError extends CellgraphError {
  readonly kind: ErrorKind;
  constructor(
    readonly status: number,
    code: ApiErrorCode,
    message: string,
    field?: string,
    readonly diagnostics?: Diagnostic[]
  ) {
    super(message, field);
    this.kind = kindOfCode(code);
  }
}

/** A notebook that does not compile: 422 with every diagnostic, cell by cell. */
export function compileFailed(notebook: string, diagnostics: Diagnostic[]): CompileError {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return new CompileError(`${notebook}: ${errors} error${errors === 1 ? '' : 's'}; nothing was run`, diagnostics, 'notebook');
}

/** Turns a zod failure on one part of a request into a 400 naming the field at fault (`body.cron`, `path.id`). */
export function invalidInput(location: 'body' | 'query' | 'params' | 'header', error: ZodError): ValidationError {
  return zodToValidationError(error, { field: (path) => [location === 'params' ? 'path' : location, ...path].join('.') });
}

interface Mapped {
  status: number;
  body: ApiError;
  /** Only for unexposed kinds (500): a reference the operator finds in the server's log next to the stack. */
  reference?: string;
}

/**
 * Maps any thrown value to a status and an ApiError body through the one table
 * (ERROR_KINDS). Exposed kinds keep their message; anything else becomes a 500 whose body
 * holds only a reference id, so stacks, paths and secrets stay in the server's log.
 */
export function toApiError(thrown: unknown): Mapped {
  const e = fromFramework(thrown);
  const answer = ERROR_KINDS[errorKind(e)];
  if (!answer.expose || !(e instanceof CellgraphError)) {
    const reference = randomBytes(6).toString('hex');
    return { status: 500, body: { error: { code: 'internal', message: `internal error (reference ${reference}; see the server log)` } }, reference };
  }
  const diagnostics = e instanceof CompileError ? e.diagnostics : e instanceof HttpError ? e.diagnostics : undefined;
  const error: ApiError['error'] = { code: answer.code, message: e.message };
  if (e.field !== undefined) error.field = e.field;
  if (diagnostics !== undefined) error.diagnostics = diagnostics;
  return { status: e instanceof HttpError ? e.status : answer.status, body: { error } };
}

/**
 * What Fastify and Node throw at the edge, as domain errors: a body that is too large,
 * not JSON, or malformed; a full disk (the store's writes are atomic, temp file + rename,
 * so it leaves nothing half-written). Anything else is returned as it is.
 */
function fromFramework(e: unknown): unknown {
  if (e instanceof CellgraphError || !(e instanceof Error)) return e;
  const errno = (e as NodeJS.ErrnoException).code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new UnavailableError("the disk holding the server's home is full; nothing was stored, try again once space is freed");
  }
  const fastifyError = e as FastifyError;
  if (typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_')) {
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PayloadTooLargeError('request body is too large');
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new UnsupportedMediaTypeError('unsupported content type; send application/json', 'header.content-type');
    const status = fastifyError.statusCode ?? 500;
    if (status === 400) return new BadRequestError(requestProblem(fastifyError));
    if (status > 400 && status < 500) return new HttpError(status, 'bad-request', requestProblem(fastifyError));
  }
  if (e instanceof SyntaxError && (e as FastifyError).statusCode === 400) return new BadRequestError(`malformed JSON: ${e.message}`, 'body');
  return e;
}

function requestProblem(e: FastifyError): string {
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /JSON/i.test(e.message)) {
    return `malformed JSON: ${e.message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'$/, 'the body is not valid JSON')}`;
  }
  return e.message;
}

/** Sends an error response, logging 5xx details (with their reference) to the server's stderr. */
export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const mapped = toApiError(e);
  if (mapped.reference !== undefined) {
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`cellgraph server: internal error ${mapped.reference}: ${err.stack ?? err.message}\n`);
  }
  return reply.status(mapped.status).type('application/json').send(mapped.body);
}
