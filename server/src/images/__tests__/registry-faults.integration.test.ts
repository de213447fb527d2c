/**
 * Registry auth and faults, against the real test registry behind a fault-injecting
 * front: basic auth from docker's config.json, the token flow Docker Hub uses, 5xx
 * answers in mid-upload (retried, then a clear error), and the CLI's exit codes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileNotebook } from '../../compiler';
import { FilesystemStore } from '../../stores';
import { pushMachineBaseImage, startRegistry, TestRegistry } from '@cellgraph/dev/services/registry';
import { RegistryProxy, startRegistryProxy } from '@cellgraph/dev/test-support/registry-proxy';
import { buildImage, BuildImageOptions } from '../image-builder';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
let registry: TestRegistry;
let base: string;
let work: string;
let proxy: RegistryProxy | undefined;

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushMachineBaseImage(registry.host);
});
afterAll(async () => registry?.stop());
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-regfault-'));
  fs.cpSync(path.join(ROOT, 'examples', 'hello'), work, { recursive: true, filter: (s) => !/[\\/](out|\.cellgraph)$/.test(s) });
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(work, 'package-lock.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'), 'dir');
});
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  fs.rmSync(work, { recursive: true, force: true });
});

function options(push: string, extra: Partial<BuildImageOptions> = {}): BuildImageOptions {
  const notebook = path.join(work, 'hello.ipynb');
  const text = fs.readFileSync(notebook, 'utf8');
  const compiled = compileNotebook({ path: notebook, text });
  if (!compiled.ok) throw new Error('hello does not compile');
  return { ir: compiled.ir, notebookPath: notebook, notebookText: text, push, base, store: new FilesystemStore(path.join(work, '.cellgraph')), env: {}, ...extra };
}

it('logs in with basic auth from docker config.json, and says so when no credentials are found', async () => {
  proxy = await startRegistryProxy({ upstream: registry.host, auth: { kind: 'basic', username: 'ds', password: 's3cret' } });
  await expect(buildImage(options(`${proxy.host}/team/hello`))).rejects.toThrow(/requires a login \(basic auth\) and no credentials were found/);

  const dockerDir = path.join(work, 'docker');
  fs.mkdirSync(dockerDir);
  fs.writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('ds:s3cret').toString('base64') } } }));
  const result = await buildImage(options(`${proxy.host}/team/hello`, { env: { DOCKER_CONFIG: dockerDir } }));
  // Another registry than the base's: base layers are copied across, ours uploaded.
  expect(result.blobs.map((b) => b.status)).not.toContain('mounted');
  expect(result.blobs.filter((b) => b.status === 'uploaded')).toHaveLength(6);
});

it('follows the bearer token flow, and reports refused credentials', async () => {
  proxy = await startRegistryProxy({ upstream: registry.host, auth: { kind: 'token', username: 'ds', password: 'right' } });
  const ok = await buildImage(options(`${proxy.host}/team/hello`, { env: { CELLGRAPH_REGISTRY_USERNAME: 'ds', CELLGRAPH_REGISTRY_PASSWORD: 'right' } }));
  expect(ok.digest).toMatch(/^sha256:/);
  expect(proxy.requests.some((r) => r.startsWith('GET /token'))).toBe(true);
  await expect(
    buildImage(options(`${proxy.host}/team/other`, { env: { CELLGRAPH_REGISTRY_USERNAME: 'ds', CELLGRAPH_REGISTRY_PASSWORD: 'wrong' } }))
  ).rejects.toThrow(/token service of .* answered 401/);
});

it('retries 5xx answers in mid-upload, then fails with a clear error when they persist', async () => {
  proxy = await startRegistryProxy({ upstream: registry.host, failUploads: 2 });
  const ok = await buildImage(options(`${proxy.host}/team/retried`, { registry: { retryDelayMs: 10 } }));
  expect(ok.blobs.every((b) => b.status === 'uploaded')).toBe(true);
  const check = await buildImage(options(`${proxy.host}/team/retried`));
  expect(check).toMatchObject({ unchanged: true, digest: ok.digest });
  await proxy.stop();

  proxy = await startRegistryProxy({ upstream: registry.host, failUploads: 1000 });
  await expect(buildImage(options(`${proxy.host}/team/broken`, { registry: { attempts: 3, retryDelayMs: 10 } }))).rejects.toThrow(
    /upload of sha256:[0-9a-f]+ failed after 3 attempts: .* answered 500/
  );
});

it('cellgraph build prints progress and the reference, and rejects bad references with exit 2', () => {
  const cli = path.join(ROOT, 'server', 'dist', 'cli', 'main.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'build', 'hello.ipynb', ...args], { cwd: work, encoding: 'utf8' });
  const good = run('--push', `${registry.host}/cli/hello:dev`, '--base', base);
  expect(good.status).toBe(0);
  expect(good.stdout.trim()).toMatch(new RegExp(`^${registry.host}/cli/hello:cg-[0-9a-f]{40}@sha256:[0-9a-f]{64}$`));
  expect(good.stderr).toMatch(/layer dependencies .* built in/);
  expect(good.stderr).toMatch(/push {2}notebook .* uploaded/);
  expect(good.stderr).toContain(`tag   cli/hello:dev`);
  const again = run('--push', `${registry.host}/cli/hello:dev`, '--base', base);
  expect(again.stderr).toContain('unchanged');

  const bad = run('--push', 'UPPER/Case', '--base', base);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('push: "UPPER/Case" is not an image reference');
  expect(run().status).toBe(2);
  const missingBase = run('--push', `${registry.host}/cli/hello`, '--base', `${registry.host}/base/missing:1`);
  expect(missingBase.status).toBe(1);
  expect(missingBase.stderr).toMatch(/base image .* does not exist/);
  expect(missingBase.stderr).not.toMatch(/\n\s+at /);
});

it('uploads large blobs in PATCH chunks that the real registry reassembles', async () => {
  proxy = await startRegistryProxy({ upstream: registry.host });
  const result = await buildImage(options(`${proxy.host}/team/chunked`, { registry: { chunkSize: 64 * 1024 } }));
  expect(proxy.requests.filter((r) => r.startsWith('PATCH')).length).toBeGreaterThan(2);
  // The registry verified every digest on the final PUT; reading the manifest back closes the loop.
  const again = await buildImage(options(`${proxy.host}/team/chunked`));
  expect(again).toMatchObject({ unchanged: true, digest: result.digest });
});
