/** In-process unit tests of the server's pure parts: config, auth, error mapping, OpenAPI, version diffs. */
import { z } from 'zod';
import { ApiError, CreateRunRequest, WorkflowIR } from '@cellgraph/schema';
import { NotFoundError, StateError, ValidationError } from '../../errors';
import { tokenChecker } from '../auth';
import { isLoopback, loadServerConfig } from '../config';
import { HttpError, invalidInput, toApiError } from '../http-errors';
import { buildOpenApi } from '../openapi';
import { jsonRoute } from '../route';
import { diffTasks } from '../workflow-service';

describe('config', () => {
  it('takes flags over env, resolves paths, and names the setting at fault', () => {
    const c = loadServerConfig({ port: '0' }, { CELLGRAPH_PORT: '9000', CELLGRAPH_HOME: 'h' }, '/srv');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 0, home: '/srv/h', workDir: '/srv', graceSeconds: 30 });
    expect(() => loadServerConfig({ port: '70000' }, {}, '/srv')).toThrow(/--port \/ CELLGRAPH_PORT/);
    expect(() => loadServerConfig({}, { CELLGRAPH_TOKEN: 'has space in it 12345' }, '/srv')).toThrow(/CELLGRAPH_TOKEN: must be printable/);
    expect(() => loadServerConfig({ host: '10.0.0.5' }, {}, '/srv')).toThrow(ValidationError);
    expect(loadServerConfig({ host: '10.0.0.5' }, { CELLGRAPH_TOKEN: 'x'.repeat(20) }, '/srv').host).toBe('10.0.0.5');
    expect(loadServerConfig({}, {}, '/srv').executor).toBe('local');
    expect(loadServerConfig({}, { CELLGRAPH_EXECUTOR: 'kubernetes' }, '/srv').executor).toBe('kubernetes');
    expect(() => loadServerConfig({ executor: 'nomad' }, {}, '/srv')).toThrow(/--executor \/ CELLGRAPH_EXECUTOR/);
  });
  it('takes PostgreSQL from CELLGRAPH_DATABASE_URL, SQLite when unset, and refuses another URL without echoing it', () => {
    expect(loadServerConfig({}, {}, '/srv').databaseUrl).toBeUndefined();
    expect(loadServerConfig({}, { CELLGRAPH_DATABASE_URL: '' }, '/srv').databaseUrl).toBeUndefined();
    const url = 'postgres://cellgraph:s3cret@db:5432/cellgraph';
    expect(loadServerConfig({}, { CELLGRAPH_DATABASE_URL: url }, '/srv').databaseUrl).toBe(url);
    let error: unknown;
    try {
      loadServerConfig({}, { CELLGRAPH_DATABASE_URL: 'mysql://root:s3cret@db/x' }, '/srv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'CELLGRAPH_DATABASE_URL', message: expect.stringMatching(/CELLGRAPH_DATABASE_URL must be a postgres:\/\//) });
    expect((error as Error).message).not.toContain('s3cret');
  });
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.1', 'example.com'].some(isLoopback)).toBe(false);
  });
});

describe('auth', () => {
  it('accepts only the exact bearer token', () => {
    const ok = tokenChecker('s3cret-token-0123456789');
    expect(ok('Bearer s3cret-token-0123456789')).toBe(true);
    expect(ok('bearer s3cret-token-0123456789')).toBe(true);
    expect(ok('Bearer s3cret-token-012345678')).toBe(false);
    expect(ok('s3cret-token-0123456789')).toBe(false);
    expect(ok(undefined)).toBe(false);
    expect(ok('Bearer ')).toBe(false);
  });
});

describe('error mapping', () => {
  it('maps domain errors to statuses and hides internals of everything else', () => {
    expect(toApiError(new ValidationError('bad', 'params.x'))).toMatchObject({ status: 400, body: { error: { code: 'invalid', field: 'params.x' } } });
    expect(toApiError(new NotFoundError('gone')).status).toBe(404);
    expect(toApiError(new StateError('disk full')).status).toBe(503);
    expect(toApiError(new HttpError(409, 'conflict', 'busy')).status).toBe(409);
    const internal = toApiError(new Error('password=hunter2 at /secret/path'));
    expect(internal.status).toBe(500);
    expect(JSON.stringify(internal.body)).not.toMatch(/hunter2|secret/);
    expect(ApiError.parse(internal.body).error.message).toContain(internal.reference);
  });
  it('names unknown fields and missing ones', () => {
    const unknown = CreateRunRequest.safeParse({ notebook: 'x', colour: 1 });
    expect(unknown.success).toBe(false);
    if (!unknown.success) expect(invalidInput('body', unknown.error)).toMatchObject({ field: 'body.colour', message: 'body.colour: unknown field: colour' });
    const missing = z.object({ a: z.string() }).strict().safeParse({});
    if (!missing.success) expect(invalidInput('query', missing.error)).toMatchObject({ field: 'query.a', message: 'query.a: required' });
  });
});

describe('OpenAPI', () => {
  it('documents path and query parameters, bodies and auth from the route schemas', () => {
    const route = jsonRoute({
      method: 'POST',
      url: '/api/v1/things/:id',
      summary: 's',
      tag: 't',
      params: z.object({ id: z.string() }),
      query: z.object({ limit: z.number().optional() }),
      body: z.object({ name: z.string() }).strict(),
      response: z.object({ ok: z.boolean() }),
      handler: async () => ({ ok: true })
    });
    const doc = buildOpenApi([route], '1.0.0') as { paths: Record<string, { post: { parameters: unknown[]; requestBody: unknown; responses: Record<string, unknown> } }> };
    const op = doc.paths['/api/v1/things/{id}'].post;
    expect(op.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
      expect.objectContaining({ name: 'limit', in: 'query', required: false })
    ]);
    expect(JSON.stringify(op.requestBody)).toContain('"additionalProperties":false');
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '413', '500']));
  });
});

describe('version diff', () => {
  const task = (name: string, codeHash: string, inputs: { name: string; from: string }[] = []) => ({
    name,
    cells: [0],
    inputs: inputs.map((i) => ({ ...i, type: 'number' })),
    outputs: [{ name: `${name}_out`, type: 'number' }],
    params: [],
    after: [],
    upstream: inputs.map((i) => i.from),
    policy: { retries: 0, cache: true, resources: {}, env: {}, secrets: [] },
    module: '',
    codeHash: `sha256:${codeHash.repeat(64)}`
  });
  const ir = (tasks: ReturnType<typeof task>[]) =>
    WorkflowIR.parse({
      irVersion: 1,
      name: 'w',
      version: `sha256:${'0'.repeat(64)}`,
      source: { path: 'w.ipynb', notebookHash: `sha256:${'0'.repeat(64)}` },
      params: [],
      paramsModule: '',
      tasks,
      edges: [],
      cells: []
    });
  it('reports added, removed, changed code and changed inputs per task', () => {
    const a = ir([task('load', 'a'), task('train', 'b', [{ name: 'load_out', from: 'load' }]), task('old', 'c')]);
    const b = ir([task('load', 'a'), task('train', 'b', [{ name: 'extra', from: 'load' }]), task('report', 'd')]);
    expect(diffTasks(a, b).map((d) => [d.task, d.change, d.code, d.inputs])).toEqual([
      ['load', 'unchanged', false, { added: [], removed: [] }],
      ['train', 'changed', false, { added: ['extra: number from load'], removed: ['load_out: number from load'] }],
      ['old', 'removed', true, { added: [], removed: [] }],
      ['report', 'added', true, { added: [], removed: [] }]
    ]);
  });
});
