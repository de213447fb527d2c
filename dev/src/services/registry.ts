/**
 * Real services that tests and benchmarks start for themselves on 127.0.0.1 (never
 * shipped to users): the OCI registry and a base image made from this machine.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLayer, digestOf } from '@cellgraph/server/dist/images/layer';
import { MediaTypes } from '@cellgraph/server/dist/images/oci-types';
import { RegistryClient } from '@cellgraph/server/dist/images/registry-client';
import type { TarEntry } from '@cellgraph/server/dist/images/deterministic-tar';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1, storing into a temporary directory, stopped by PID when the test ends.
 */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, as image references name it. */
  host: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the registry takes it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Starts docker-registry; fails with the install hint when the Debian package is missing. */
export async function startRegistry(): Promise<TestRegistry> {
  if (!fs.existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing: run "bash scripts/setup.sh" (it installs the docker-registry Debian package)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-registry-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dir}/data`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ''
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Files of this machine that make a minimal runtime: the node binary, /bin/sh, and the libraries they load. */
function machineRuntimeEntries(): TarEntry[] {
  const node = fs.realpathSync(process.execPath);
  const sh = fs.realpathSync('/bin/sh');
  const files = new Set<string>([node, sh]);
  for (const bin of [node, sh]) {
    const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
    for (const m of ldd.matchAll(/(\/\S+)\s+\(0x/g)) files.add(m[1]);
  }
  const entries: TarEntry[] = [];
  for (const f of [...files].sort()) {
    const data = fs.readFileSync(f);
    entries.push({ kind: 'file', path: f, data, executable: true });
    const real = fs.realpathSync(f);
    if (real !== f) entries.push({ kind: 'file', path: real, data, executable: true });
  }
  entries.push({ kind: 'symlink', path: '/usr/local/bin/node', target: node });
  if (node !== '/usr/bin/node') entries.push({ kind: 'symlink', path: '/usr/bin/node', target: node });
  if (sh !== '/bin/sh') entries.push({ kind: 'symlink', path: '/bin/sh', target: sh });
  entries.push({ kind: 'dir', path: '/tmp' }, { kind: 'dir', path: '/dev' }, { kind: 'dir', path: '/proc' });
  entries.push({ kind: 'file', path: '/etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') });
  return entries;
}

/**
 * Pushes a Node base image made from this machine's own files (no internet pulls) as
 * `<host>/<repository>:<tag>`, behind an image index as Docker Hub serves `node:24`, so
 * the builder's manifest-list resolution is exercised. Returns the reference.
 */
export async function pushMachineBaseImage(host: string, repository = 'base/node', tag = process.versions.node.split('.')[0]): Promise<string> {
  const layer = buildLayer('base', machineRuntimeEntries());
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `NODE_VERSION=${process.versions.node}`], Cmd: ['node'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'cellgraph test setup: node and /bin/sh from the host' }]
    })
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: layer.digest, size: layer.size }]
    })
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [{ mediaType: MediaTypes.ociManifest, digest: digestOf(manifest), size: manifest.length, platform: { architecture: 'amd64', os: 'linux' } }]
    })
  );
  const client = new RegistryClient({ registry: host });
  if (!(await client.hasBlob(repository, layer.digest))) await client.uploadBlob(repository, layer.digest, layer.bytes);
  await client.uploadBlob(repository, digestOf(config), config);
  await client.putManifest(repository, digestOf(manifest), manifest, MediaTypes.ociManifest);
  await client.putManifest(repository, tag, index, MediaTypes.ociIndex);
  return `${host}/${repository}:${tag}`;
}
