/**
 * Image build figures, side by side with `buildah build` + `buildah push` of the
 * equivalent Dockerfile (a COPY per layer of the same files onto the same base) to the
 * same local registry (Debian's docker-registry on 127.0.0.1, started here).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkflowIR } from '@cellgraph/schema';
import { compileNotebook } from '@cellgraph/server/dist/compiler';
import { buildImage } from '@cellgraph/server/dist/images';
import { planWorkflowLayers } from '@cellgraph/server/dist/images/workflow-layers';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { pushMachineBaseImage, startRegistry } from '../services/registry';

type Report = (name: string, value: number, unit: string, target?: string) => void;

const ROOT = path.resolve(__dirname, '..', '..', '..');

function run(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

function compile(notebook: string, text: string): WorkflowIR {
  const r = compileNotebook({ path: notebook, text });
  if (!r.ok) throw new Error(`${notebook} does not compile`);
  return r.ir;
}

/** The iris example as a user's project: notebook, data, lockfile, installed packages. */
export function irisProject(root: string): { notebook: string; text: string } {
  const dir = path.join(root, 'iris');
  fs.cpSync(path.join(ROOT, 'examples', 'iris'), dir, { recursive: true, filter: (s) => !/[\\/](out|\.cellgraph)$/.test(s) });
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const notebook = path.join(dir, 'iris.ipynb');
  return { notebook, text: fs.readFileSync(notebook, 'utf8') };
}

/** The same layers' files on disk plus a Dockerfile that COPYs each, for buildah. */
function buildahContext(root: string, ir: WorkflowIR, notebook: string, text: string, base: string): string {
  const ctx = path.join(root, 'buildah-ctx');
  fs.rmSync(ctx, { recursive: true, force: true });
  const lines = [`FROM ${base}`];
  for (const plan of planWorkflowLayers(ir, notebook, text)) {
    for (const e of plan.entries()) {
      const target = path.join(ctx, plan.name, e.path);
      if (e.kind === 'dir') fs.mkdirSync(target, { recursive: true });
      else if (e.kind === 'file') {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, e.data, { mode: e.executable ? 0o755 : 0o644 });
      }
    }
    lines.push(`COPY ${plan.name}/ /`);
  }
  lines.push('WORKDIR /app/work', 'ENTRYPOINT ["node", "/app/node_modules/@cellgraph/server/dist/executors/task-entry.js"]');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), lines.join('\n') + '\n');
  return ctx;
}

/** cellgraph build vs buildah: cold, one-cell edit, and no-change rebuilds. */
export async function benchImages(root: string, report: Report): Promise<void> {
  const registry = await startRegistry();
  try {
    const base = await pushMachineBaseImage(registry.host);
    const { notebook, text } = irisProject(root);
    const ir = compile(notebook, text);
    const store = new FilesystemStore(path.join(path.dirname(notebook), '.cellgraph'));
    const push = `${registry.host}/bench/iris`;

    let t0 = performance.now();
    const cold = await buildImage({ ir, notebookPath: notebook, notebookText: text, push, base, store });
    report('cellgraph build + push, cold (iris)', performance.now() - t0, 'ms');
    report('cellgraph cold: bytes uploaded', cold.bytesUploaded / 1024 / 1024, 'MiB');

    const edited = text.replace('const knnAccuracy = accuracy(testSet, knnPredictions);', 'const knnAccuracy = accuracy(testSet, knnPredictions); // edited');
    if (edited === text) throw new Error('bench edit did not apply');
    const editedIr = compile(notebook, edited);
    t0 = performance.now();
    const edit = await buildImage({ ir: editedIr, notebookPath: notebook, notebookText: edited, push, base, store });
    report('cellgraph rebuild after a one-cell edit', performance.now() - t0, 'ms', '<= 1000 ms');
    const notebookLayer = edit.layers.find((l) => l.name === 'notebook');
    report('  bytes uploaded (notebook layer + config)', edit.bytesUploaded / 1024, 'KiB');
    report('  notebook layer size', (notebookLayer?.size ?? 0) / 1024, 'KiB');

    t0 = performance.now();
    const same = await buildImage({ ir: editedIr, notebookPath: notebook, notebookText: edited, push, base, store });
    report('cellgraph no-change rebuild', performance.now() - t0, 'ms', '<= 200 ms');
    report('  bytes uploaded', same.bytesUploaded, 'B', '0');

    const storage = ['--storage-driver', 'vfs', '--root', path.join(root, 'buildah-root'), '--runroot', path.join(root, 'buildah-run')];
    const ctx = buildahContext(root, ir, notebook, text, base);
    const tag = `${registry.host}/bench/iris-buildah:cold`;
    const buildMs = run('buildah', [...storage, 'build', '--isolation', 'chroot', '--tls-verify=false', '-t', tag, ctx]);
    const pushMs = run('buildah', [...storage, 'push', '--tls-verify=false', tag, `docker://${tag}`]);
    report('buildah build + push, cold (same files, same base)', buildMs + pushMs, 'ms');
    report('  of which build', buildMs, 'ms');
    const ctx2 = buildahContext(root, editedIr, notebook, edited, base);
    const tag2 = `${registry.host}/bench/iris-buildah:edit`;
    const rebuildMs = run('buildah', [...storage, 'build', '--isolation', 'chroot', '--tls-verify=false', '-t', tag2, ctx2]) + run('buildah', [...storage, 'push', '--tls-verify=false', tag2, `docker://${tag2}`]);
    report('buildah rebuild + push after the one-cell edit', rebuildMs, 'ms');
    run('buildah', [...storage, 'rmi', '--all', '--force']);
  } finally {
    await registry.stop();
  }
}
