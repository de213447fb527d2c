import { z } from 'zod';
import { ApiErrorCode } from '@cellgraph/schema';
import { toApiError } from '../api/http-errors';
import {
  BadRequestError,
  CellgraphError,
  CompileError,
  CompileLimitError,
  MethodNotAllowedError,
  ConflictError,
  ERROR_KINDS,
  type ErrorKind,
  EXIT,
  IntegrityError,
  NotFoundError,
  PayloadTooLargeError,
  StateError,
  StoreUnavailableError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  UpstreamError,
  ValidationError,
  errorFromApi,
  exitCodeOf,
  ForbiddenError
} from '../errors';
import { RegistryError } from '../images/registry-client';
import { KubernetesApiError } from '../executors/kubernetes/kube-errors';
import { ScheduleConflictError } from '../scheduler/validation';
import { zodToValidationError } from '../zod-issue';

/** One instance of every kind, as the code throws them. */
const samples: Record<ErrorKind, CellgraphError> = {
  validation: new ValidationError('params.lr: must be a number', 'params.lr'),
  'bad-request': new BadRequestError('malformed JSON', 'body'),
  unauthorized: new UnauthorizedError('missing or wrong bearer token'),
  forbidden: new ForbiddenError('run in project "ml" needs the editor role; alice is viewer'),
  'not-found': new NotFoundError('run r-1 not found'),
  'method-not-allowed': new MethodNotAllowedError('PATCH is not allowed on /api/v1/runs'),
  conflict: new ConflictError('run r-1 is running'),
  'payload-too-large': new PayloadTooLargeError('request body is too large'),
  'unsupported-media-type': new UnsupportedMediaTypeError('send application/json', 'header.content-type'),
  compile: new CompileError('nb.ipynb: 1 error', [], 'notebook'),
  'compile-limit': new CompileLimitError('time', 20, '--compile-timeout-seconds'),
  integrity: new IntegrityError('blob sha256:ab is corrupt'),
  state: new StateError('database is locked'),
  'store-unavailable': new StoreUnavailableError('artifact store s3://b/: GET failed'),
  upstream: new UpstreamError('registry answered 502'),
  unavailable: new UnavailableError('the server is shutting down'),
  internal: new (class extends CellgraphError {
    readonly kind = 'internal';
  })('a bug')
};

/** The table as users rely on it (docs/errors.md): status, API code, exit code. */
const expected: Record<ErrorKind, [number, ApiErrorCode, number]> = {
  validation: [400, 'invalid', 2],
  'bad-request': [400, 'bad-request', 2],
  unauthorized: [401, 'unauthorized', 2],
  forbidden: [403, 'forbidden', 2],
  'not-found': [404, 'not-found', 2],
  'method-not-allowed': [405, 'method-not-allowed', 2],
  conflict: [409, 'conflict', 1],
  'payload-too-large': [413, 'payload-too-large', 2],
  'unsupported-media-type': [415, 'bad-request', 2],
  compile: [422, 'compile-error', 1],
  'compile-limit': [422, 'compile-limit', 1],
  integrity: [500, 'internal', 1],
  state: [503, 'unavailable', 1],
  'store-unavailable': [503, 'unavailable', 1],
  upstream: [503, 'unavailable', 1],
  unavailable: [503, 'unavailable', 1],
  internal: [500, 'internal', 1]
};

describe('the error table', () => {
  it('maps every kind to its HTTP status, API code and CLI exit code', () => {
    expect(Object.keys(ERROR_KINDS).sort()).toEqual(Object.keys(expected).sort());
    for (const [kind, [status, code, exit]] of Object.entries(expected) as [ErrorKind, [number, ApiErrorCode, number]][]) {
      expect({ kind, ...ERROR_KINDS[kind] }).toEqual(expect.objectContaining({ kind, status, code, exit }));
    }
  });

  it.each(Object.entries(samples) as [ErrorKind, CellgraphError][])('%s: the HTTP edge and the CLI answer by the table', (kind, error) => {
    const [status, code, exit] = expected[kind];
    const mapped = toApiError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.body.error.code).toBe(code);
    expect(exitCodeOf(error)).toBe(exit);
    expect(error.kind).toBe(kind);
    expect(error.name).toBe(error.constructor.name);
    if (ERROR_KINDS[kind].expose) {
      expect(mapped.body.error.message).toBe(error.message);
      expect(mapped.body.error.field).toBe(error.field);
      expect(mapped.reference).toBeUndefined();
    } else {
      // Unexposed: the body holds a reference to the server log, never the message.
      expect(mapped.body.error.message).not.toContain(error.message);
      expect(mapped.body.error.message).toContain(mapped.reference);
    }
  });

  it('answers anything that is not a CellgraphError as internal, exit 1', () => {
    const mapped = toApiError(new TypeError('x is undefined at /srv/secret/path.js'));
    expect(mapped.status).toBe(500);
    expect(mapped.body.error.message).not.toContain('secret');
    expect(exitCodeOf(new TypeError('bug'))).toBe(EXIT.failed);
    expect(exitCodeOf('a string')).toBe(EXIT.failed);
  });

  it('answers a full disk as 503 unavailable', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    expect(toApiError(full)).toEqual({ status: 503, body: { error: { code: 'unavailable', message: expect.stringContaining('disk') } } });
  });

  it('the clients of other services throw kinds of the table', () => {
    expect(exitCodeOf(new RegistryError('registry.example.com answered 401', 401))).toBe(1);
    expect(toApiError(new RegistryError('registry.example.com answered 401', 401)).status).toBe(503);
    expect(new KubernetesApiError('forbidden', 403, 'Forbidden').kind).toBe('upstream');
    expect(toApiError(new ScheduleConflictError('id: a schedule "x" already exists')).body).toEqual({
      error: { code: 'conflict', message: 'id: a schedule "x" already exists', field: 'id' }
    });
  });
});

describe('errorFromApi (a server answer back into the error the server threw)', () => {
  it.each(Object.entries(samples).filter(([kind]) => ERROR_KINDS[kind as ErrorKind].expose) as [ErrorKind, CellgraphError][])(
    '%s round-trips to the same exit code',
    (_kind, error) => {
      const { status, body } = toApiError(error);
      const back = errorFromApi(status, body.error, JSON.stringify(body));
      expect(exitCodeOf(back)).toBe(exitCodeOf(error));
      expect(back.message).toContain(error.message);
    }
  );

  it('keeps a compile error diagnostics and a field', () => {
    const d = { severity: 'error' as const, message: 'Cannot find name "x"', code: 'type-error' as const, notebook: 'nb.ipynb', cell: 2 };
    const back = errorFromApi(422, { code: 'compile-error', message: 'nb: 1 error', field: 'notebook', diagnostics: [d] }, '');
    expect(back).toBeInstanceOf(CompileError);
    expect((back as CompileError).diagnostics).toEqual([d]);
    expect(errorFromApi(400, { code: 'invalid', message: 'body.cron: required', field: 'body.cron' }, '').field).toBe('body.cron');
  });

  it('tells the user to set the token on 401, and reads a status without a body', () => {
    const e = errorFromApi(401, { code: 'unauthorized', message: 'missing or wrong bearer token' }, '');
    expect(e).toBeInstanceOf(UnauthorizedError);
    expect(e.message).toMatch(/CELLGRAPH_TOKEN/);
    expect(errorFromApi(404, undefined, 'gone')).toBeInstanceOf(NotFoundError);
    expect(errorFromApi(502, undefined, 'bad gateway')).toBeInstanceOf(UnavailableError);
    expect(exitCodeOf(errorFromApi(500, undefined, 'oops'))).toBe(1);
  });
});

describe('zodToValidationError (the one zod conversion)', () => {
  const Body = z.object({ cron: z.string(), params: z.object({ lr: z.number() }) }).strict();

  it('names the field at fault, unknown keys included', () => {
    const missing = Body.safeParse({ params: { lr: 1 } });
    const e = zodToValidationError(missing.error!);
    expect(e).toBeInstanceOf(ValidationError);
    expect([e.field, e.message]).toEqual(['cron', 'cron: required']);
    const unknown = zodToValidationError(Body.safeParse({ cron: 'x', params: { lr: 1 }, extra: 1 }).error!);
    expect([unknown.field, unknown.message]).toEqual(['extra', 'extra: unknown field: extra']);
  });

  it('takes the caller naming: a prefix, a label and a context', () => {
    const failure = Body.safeParse({ cron: 'x', params: { lr: 'fast' } }).error!;
    const e = zodToValidationError(failure, { field: (p) => ['body', ...p].join('.'), context: 'schedule' });
    expect(e.field).toBe('body.params.lr');
    expect(e.message).toBe('schedule: body.params.lr: Expected number, received string');
    const flag = zodToValidationError(failure, { field: () => 'lr', label: () => '--lr' });
    expect([flag.field, flag.message]).toEqual(['lr', '--lr: Expected number, received string']);
  });
});
