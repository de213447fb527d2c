/**
 * Image builds against real components: Debian's docker-registry on 127.0.0.1, a base
 * image made from this machine's node and /bin/sh, skopeo to pull the result into an
 * OCI layout, umoci to unpack it, and chroot to run a task inside it as a pod would.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TaskInvocation, TaskResult, WorkflowIR, attemptKey } from '@cellgraph/schema';
import { decodeValue } from '@cellgraph/kernel';
import { compileNotebook } from '../../compiler';
import { publishWorkflow } from '../../engine/workflow-files';
import { FilesystemStore } from '../../stores';
import { pushMachineBaseImage, startRegistry, TestRegistry } from '@cellgraph/dev/services/registry';
import { BuildEvent, buildImage } from '../image-builder';
import { ImagePaths } from '../workflow-layers';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
let registry: TestRegistry;
let base: string;
let work: string;

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushMachineBaseImage(registry.host);
});
afterAll(async () => {
  await registry?.stop();
});
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-image-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** A project like a user's: the example notebook, a lockfile and installed packages. */
function project(example: string): { dir: string; notebook: string; text: string; ir: WorkflowIR } {
  const dir = path.join(work, 'project');
  fs.cpSync(path.join(ROOT, 'examples', example), dir, { recursive: true, filter: (s) => !/[\\/](out|\.cellgraph)$/.test(s) });
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const notebook = path.join(dir, `${example}.ipynb`);
  const text = fs.readFileSync(notebook, 'utf8');
  const compiled = compileNotebook({ path: notebook, text });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
  return { dir, notebook, text, ir: compiled.ir };
}

function build(p: { notebook: string; text: string; ir: WorkflowIR; dir: string }, events: BuildEvent[] = [], extra: Partial<Parameters<typeof buildImage>[0]> = {}) {
  return buildImage({
    ir: p.ir,
    notebookPath: p.notebook,
    notebookText: p.text,
    push: `${registry.host}/cellgraph/${p.ir.name}`,
    base,
    store: new FilesystemStore(path.join(p.dir, '.cellgraph')),
    onEvent: (e) => events.push(e),
    ...extra
  });
}

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

it('builds and pushes the hello image, which runs its tasks under chroot exactly as a pod would', async () => {
  const p = project('hello');
  const result = await build(p);
  expect(result.unchanged).toBe(false);
  expect(result.reference).toMatch(new RegExp(`^${registry.host}/cellgraph/hello:cg-[0-9a-f]{40}@sha256:[0-9a-f]{64}$`));
  expect(result.layers.map((l) => l.name)).toEqual(['dependencies', 'runtime', 'files', 'notebook']);
  // The base layer went by cross-repository mount, not through this process.
  expect(result.blobs.find((b) => b.name === 'base layer 1')?.status).toBe('mounted');

  // Pull it back with skopeo, unpack with umoci (which writes the OCI runtime spec from the image config).
  const layout = path.join(work, 'layout');
  const bundle = path.join(work, 'bundle');
  sh('skopeo', ['copy', '--src-tls-verify=false', `docker://${result.reference.replace(/:cg-[0-9a-f]+@/, '@')}`, `oci:${layout}:hello`]);
  sh('umoci', ['unpack', '--image', `${layout}:hello`, bundle]);
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; env: string[]; cwd: string } };
  expect(spec.process.cwd).toBe(ImagePaths.work);
  expect(spec.process.args).toEqual(['node', ImagePaths.taskEntry]);
  const rootfs = path.join(bundle, 'rootfs');
  expect(fs.existsSync(path.join(rootfs, 'app', 'work', 'hello.ipynb'))).toBe(true);
  expect(fs.existsSync(path.join(rootfs, 'app', 'node_modules', 'zod', 'package.json'))).toBe(true);
  // The runtime carries no compiler: TypeScript and SQLite stay out of the image.
  expect(fs.existsSync(path.join(rootfs, 'app', 'node_modules', 'typescript'))).toBe(false);
  expect(fs.existsSync(path.join(rootfs, 'app', 'node_modules', '@cellgraph', 'server', 'dist', 'compiler'))).toBe(false);

  // The artifact store, reachable inside the root filesystem (on Kubernetes it is S3).
  const store = new FilesystemStore(path.join(rootfs, 'store'));
  await publishWorkflow(store, p.ir, p.text);
  const runInPod = async (task: string, inputs: TaskInvocation['inputs']): Promise<TaskResult> => {
    const t = p.ir.tasks.find((x) => x.name === task)!;
    const invocation: TaskInvocation = {
      runId: 'r-image-test',
      task,
      attempt: 1,
      workflowVersion: p.ir.version,
      workDir: spec.process.cwd,
      inputs,
      outputTypes: Object.fromEntries(t.outputs.map((o) => [o.name, o.type])),
      params: { name: 'pod', excitement: 2 },
      store: { kind: 'filesystem', root: '/store' }
    };
    const env = Object.fromEntries(spec.process.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    // What a container runtime does: chroot, chdir to WorkingDir, exec the entrypoint with the image's env.
    const r = spawnSync('chroot', [rootfs, '/bin/sh', '-c', 'cd "$0" && exec "$@"', spec.process.cwd, ...spec.process.args], {
      encoding: 'utf8',
      env: { ...env, CELLGRAPH_INVOCATION: JSON.stringify(invocation) }
    });
    if (r.status !== 0 && r.status !== 1) throw new Error(`task ${task} in the image exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    return TaskResult.parse(JSON.parse((await store.getFile(attemptKey('r-image-test', task, 1, 'result.json'))).toString('utf8')));
  };

  const greet = await runInPod('greet', {});
  expect(greet.status).toBe('succeeded');
  const message = greet.outputs.find((o) => o.name === 'message')!;
  expect(message.type).toBe('string');
  expect(decodeValue(await store.getBlob(message))).toBe('Hello, pod');

  const shout = await runInPod('shout', { message });
  expect(shout.status).toBe('succeeded');
  const shouted = shout.outputs.find((o) => o.name === 'shouted')!;
  expect(decodeValue(await store.getBlob(shouted))).toBe('HELLO, POD!!');
  expect(shout.cells.flatMap((c) => c.outputs)).toContainEqual(expect.objectContaining({ output_type: 'display_data' }));
});

it('rebuilds an unchanged notebook without uploading anything, and a one-cell edit uploads only the notebook layer', async () => {
  const p = project('hello');
  const first = await build(p);
  const again = await build(p);
  expect(again).toMatchObject({ unchanged: true, digest: first.digest, bytesUploaded: 0 });
  // The same IR as a run publishes it, bound to the image built before, is the same image
  // (the compile cache hands that IR back on the next `cellgraph run`).
  const bound = WorkflowIR.parse({ ...p.ir, image: { reference: first.reference, digest: first.digest } });
  expect(await build({ ...p, ir: bound })).toMatchObject({ unchanged: true, digest: first.digest });

  const editedText = p.text.replace('const message = `Hello, ${name}`;', 'const message = `Hi, ${name}`;');
  expect(editedText).not.toBe(p.text);
  fs.writeFileSync(p.notebook, editedText);
  const compiled = compileNotebook({ path: p.notebook, text: editedText });
  if (!compiled.ok) throw new Error('edit broke the notebook');
  const edited = await build({ ...p, text: editedText, ir: compiled.ir });
  expect(edited.digest).not.toBe(first.digest);
  const uploaded = edited.blobs.filter((b) => b.status === 'uploaded').map((b) => b.name).sort();
  expect(uploaded).toEqual(['config', 'notebook']);
  const notebookLayer = edited.layers.find((l) => l.name === 'notebook')!;
  expect(edited.bytesUploaded).toBeLessThan(notebookLayer.size + 10_000);
});

it('is deterministic: the same inputs in a fresh cache give the same digest', async () => {
  const p = project('hello');
  const layoutA = path.join(work, 'a');
  const a = await build(p, [], { push: undefined, ociLayout: layoutA });
  fs.rmSync(path.join(p.dir, '.cellgraph'), { recursive: true, force: true });
  const b = await build(p, [], { push: undefined, ociLayout: path.join(work, 'b') });
  expect(b.digest).toBe(a.digest);
  // The layout is one skopeo can read.
  const inspect = JSON.parse(sh('skopeo', ['inspect', `oci:${layoutA}:${a.contentTag}`])) as { Layers: string[] };
  expect(inspect.Layers).toHaveLength(5);
});

it('fails clearly for a base image that does not exist and an unreachable registry', async () => {
  const p = project('hello');
  await expect(build(p, [], { base: `${registry.host}/base/nope:1` })).rejects.toThrow(/base image .*base\/nope:1 does not exist/);
  await expect(build(p, [], { push: '127.0.0.1:9/cellgraph/hello', registry: { attempts: 2, retryDelayMs: 10 } })).rejects.toThrow(/cannot reach 127\.0\.0\.1:9/);
});

it('refuses a project without a lockfile, naming it', async () => {
  const p = project('hello');
  fs.rmSync(path.join(p.dir, 'package-lock.json'));
  // The repository's own lockfile is above the temp dir? No: temp dirs live outside it.
  await expect(build(p)).rejects.toThrow(/no package-lock.json/);
});
