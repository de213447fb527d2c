/** In-process unit tests of the server's pure parts: config, auth, error mapping, OpenAPI, version diffs. */
import { z } from 'zod';
import { ApiError, CreateRunRequest, WorkflowIR, apiRouteList } from '@cellgraph/schema';
import { NotFoundError, StateError, ValidationError } from '../../errors';
import { bearerToken, serverTokenAuthenticator } from '../../auth';
import { isLoopback, loadServerConfig } from '../config';
import { HttpError, invalidInput, toApiError } from '../http-errors';
import { buildOpenApi } from '../openapi';
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
  it('reads the compile pool and webhook settings, naming a bad one', () => {
    const c = loadServerConfig({ compileWorkers: '3', compileTimeoutSeconds: '5', allowWebhookHost: ['169.254.170.2'] }, { CELLGRAPH_COMPILE_MEMORY_MB: '512', CELLGRAPH_WEBHOOK_ALLOW: ' fe80::/10 ,metadata ' }, '/srv');
    expect(c).toMatchObject({ compileWorkers: 3, compileTimeoutSeconds: 5, compileMemoryMb: 512, webhookAllow: ['169.254.170.2', 'fe80::/10', 'metadata'] });
    expect(() => loadServerConfig({ compileWorkers: '0' }, {}, '/srv')).toThrow(/--compile-workers \/ CELLGRAPH_COMPILE_WORKERS/);
    expect(() => loadServerConfig({}, { CELLGRAPH_COMPILE_TIMEOUT_SECONDS: 'soon' }, '/srv')).toThrow(/--compile-timeout-seconds \/ CELLGRAPH_COMPILE_TIMEOUT_SECONDS/);
    expect(() => loadServerConfig({ compileMemoryMb: '16' }, {}, '/srv')).toThrow(/--compile-memory-mb/);
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
  it('accepts only the exact bearer token', async () => {
    const server = serverTokenAuthenticator('s3cret-token-0123456789');
    const ok = async (header: string | undefined) => {
      const token = bearerToken(header);
      return token !== undefined && (await server.authenticate(token)) !== null;
    };
    expect(await ok('Bearer s3cret-token-0123456789')).toBe(true);
    expect(await ok('bearer s3cret-token-0123456789')).toBe(true);
    expect(await ok('Bearer s3cret-token-012345678')).toBe(false);
    expect(await ok('s3cret-token-0123456789')).toBe(false);
    expect(await ok(undefined)).toBe(false);
    expect(await ok('Bearer ')).toBe(false);
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
  type Operation = { operationId: string; parameters: { name: string; in: string; required: boolean }[]; requestBody?: { required: boolean; content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> };
  const doc = buildOpenApi('1.0.0') as { paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;
  const op = (path: string, method: string): Operation => doc.paths[path][method];

  it('has one operation per route of the table, with its parameters, body and statuses', () => {
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    expect(ops.map((o) => o.operationId).sort()).toEqual(apiRouteList.map((r) => r.name).sort());
    const logs = op('/api/v1/runs/{id}/logs', 'get');
    expect(logs.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
      expect.objectContaining({ name: 'task', in: 'query', required: false }),
      expect.objectContaining({ name: 'attempt', in: 'query', required: false }),
      expect.objectContaining({ name: 'element', in: 'query', required: false })
    ]);
    expect(Object.keys(logs.responses).sort()).toEqual(['200', '400', '401', '403', '404', '414', '422', '500', '503']);
    const create = op('/api/v1/runs', 'post');
    expect(create.requestBody?.required).toBe(true);
    expect(JSON.stringify(create.requestBody)).toContain('"additionalProperties":false');
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '401', '403', '404', '413', '415', '422', '500', '503']);
    expect(op('/api/v1/runs/{id}/retry', 'post').requestBody?.required).toBe(false);
    expect(op('/api/v1/health', 'get')).toMatchObject({ security: [] });
  });

  it('resolves every $ref inside the document (client generators and schemathesis follow them)', () => {
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) k === '$ref' && typeof x === 'string' ? refs.push(x) : walk(x);
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\//);
      const target = ref.slice(2).split('/').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], doc);
      expect({ ref, resolved: target !== undefined }).toEqual({ ref, resolved: true });
    }
  });

  it('states the rules the server enforces with refinements', () => {
    const body = (path: string) => op(path, 'post').requestBody?.content['application/json'].schema as Record<string, unknown>;
    for (const path of ['/api/v1/runs', '/api/v1/compile', '/api/v1/workflows/promote']) {
      expect(body(path).oneOf).toEqual([{ required: ['notebookPath'] }, { required: ['notebook'] }]);
    }
    const cron = (body('/api/v1/schedules').properties as Record<string, { pattern?: string }>).cron;
    expect(new RegExp(cron.pattern ?? '').test('30 6 * * 1-5')).toBe(true);
    expect(new RegExp(cron.pattern ?? '').test('61 * * * *')).toBe(false);
    const runId = op('/api/v1/runs/{id}', 'get').parameters[0] as unknown as { schema: { pattern: string } };
    expect(new RegExp(runId.schema.pattern).test('a..b')).toBe(false);
    expect(new RegExp(runId.schema.pattern).test('r-1.x')).toBe(true);
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
