/**
 * A real Kubernetes control plane for tests and benchmarks (never shipped to users):
 * `etcd` (Debian's etcd-server) and `kube-apiserver` (built from the Go module proxy by
 * scripts/build-kube.sh), both on 127.0.0.1 with random free ports, state in a temporary
 * directory, stopped by PID.
 *
 * There is no controller-manager, scheduler or kubelet. What that means for clients:
 * - pods stay Pending with no `spec.nodeName` until something binds them (the
 *   `pods/binding` subresource, as kube-scheduler does) and nothing runs them until a node
 *   agent reports status through `pods/status`;
 * - the ServiceAccount admission plugin is disabled (it refuses pods until the token
 *   controller has created the namespace's `default` service account), so pods need no
 *   service account; one named in a pod spec is not checked;
 * - no garbage collection (ownerReferences), namespace deletion never finishes, and a pod
 *   bound to a node is only removed once deleted with `gracePeriodSeconds: 0` (what the
 *   kubelet does after its containers stop).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface KubeApiServer {
  /** A kubeconfig (context `cellgraph-test`, user with a bearer token in `system:masters`). */
  kubeconfigPath: string;
  /** `https://127.0.0.1:PORT` */
  server: string;
  /** Bearer token of the cluster admin (RBAC: group `system:masters`). */
  token: string;
  /** PEM of the self-signed serving certificate, which is also the CA clients trust. */
  caCert: string;
  /** The Kubernetes version the apiserver reports (`gitVersion` of /version). */
  version: string;
  /**
   * Stops kube-apiserver and starts it again on the same port over the same etcd (state
   * kept), resolving once it is ready again: what a control-plane restart looks like to
   * clients (watches end, then resume from a resourceVersion).
   */
  restartApiServer(): Promise<void>;
  /** Stops kube-apiserver and etcd (by PID) and removes the temporary directory. */
  stop(): Promise<void>;
}

/** `n` distinct free ports on 127.0.0.1 (held together, then released for the services to bind). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  try {
    return await Promise.all(
      servers.map(
        (s) =>
          new Promise<number>((resolve, reject) => {
            s.once('error', reject);
            s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
          })
      )
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
  }
}

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** The Kubernetes release scripts/kube/go.mod pins (the cache directory is keyed by it). */
export function kubeVersion(): string {
  const goMod = fs.readFileSync(path.join(REPO_ROOT, 'scripts/kube/go.mod'), 'utf8');
  const m = /^require\s+k8s\.io\/kubernetes\s+(v\S+)/m.exec(goMod);
  if (!m) throw new Error('scripts/kube/go.mod does not require k8s.io/kubernetes');
  return m[1];
}

/** Where scripts/build-kube.sh puts `kube-apiserver` and `etcd`. */
export function kubeBinDir(): string {
  if (process.env.CELLGRAPH_KUBE_DIR) return process.env.CELLGRAPH_KUBE_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'cellgraph', 'kube', kubeVersion());
}

function binaries(): { apiserver: string; etcd: string } {
  const dir = kubeBinDir();
  const apiserver = path.join(dir, 'kube-apiserver');
  const etcd = path.join(dir, 'etcd');
  for (const bin of [apiserver, etcd]) {
    if (!fs.existsSync(bin)) {
      throw new Error(`${bin} is missing: run "bash scripts/build-kube.sh" (it builds kube-apiserver ${kubeVersion()} from the Go module proxy and installs Debian's etcd-server; scripts/setup.sh runs it)`);
    }
  }
  return { apiserver, etcd };
}

/** A child process whose stderr/stdout go to a log file, for error messages. */
interface Proc {
  child: ChildProcess;
  logPath: string;
}

function startProc(bin: string, args: string[], logPath: string): Proc {
  const fd = fs.openSync(logPath, 'a');
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined); // reported through exitCode / the log
    return { child, logPath };
  } finally {
    fs.closeSync(fd);
  }
}

function logTail(p: Proc, lines = 30): string {
  try {
    return fs.readFileSync(p.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function exited(p: Proc): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

async function kill(p: Proc, graceMs = 10_000): Promise<void> {
  if (exited(p)) return;
  const done = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

/** GET over HTTPS trusting `ca`; resolves with status and body (never rejects on HTTP errors). */
function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Creates `manifest` in the collection at `collectionPath` (e.g. `/api/v1/namespaces/x/pods`)
 * as a server-side dry run with strict field validation: the API server's full validation and
 * admission, nothing stored. Answers the status and the parsed body (the object or a Status).
 */
export function strictDryRunCreate(kube: Pick<KubeApiServer, 'server' | 'caCert' | 'token'>, collectionPath: string, manifest: unknown): Promise<{ status: number; body: unknown }> {
  const url = new URL(`${kube.server}${collectionPath}?dryRun=All&fieldValidation=Strict`);
  const payload = JSON.stringify(manifest);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca: kube.caCert, headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
      }
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitFor(what: string, proc: Proc, timeoutMs: number, probe: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await probe();
      if (r === true) return;
      last = r;
    } catch (e) {
      last = (e as Error).message;
    }
    if (exited(proc)) throw new Error(`${what} exited (code ${proc.child.exitCode}, signal ${proc.child.signalCode}):\n${logTail(proc)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms (last: ${last}):\n${logTail(proc)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`openssl ${args[0]} failed (Debian package openssl): ${err.stderr?.toString() || err.message}`);
  }
}

/**
 * Starts etcd and kube-apiserver and resolves once /readyz answers 200 (RBAC bootstrap
 * roles, priority-and-fairness config and the default namespaces are in place).
 */
export async function startKubeApiServer(opts: { readyTimeoutMs?: number } = {}): Promise<KubeApiServer> {
  const bins = binaries();
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kube-'));
  const procs: Proc[] = [];
  try {
    // Serving certificate for 127.0.0.1, self-signed (clients trust it as their CA).
    const certPath = path.join(dir, 'apiserver.crt');
    const keyPath = path.join(dir, 'apiserver.key');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=cellgraph-test-kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', keyPath, '-out', certPath]);
    // Key pair the apiserver signs and verifies service-account tokens with (required flags).
    const saKeyPath = path.join(dir, 'sa.key');
    const saPubPath = path.join(dir, 'sa.pub');
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', saKeyPath]);
    openssl(['ec', '-in', saKeyPath, '-pubout', '-out', saPubPath]);
    // Static token of the admin: token,user,uid,"groups".
    const token = randomBytes(24).toString('hex');
    const tokensPath = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokensPath, `${token},cellgraph-admin,cellgraph-admin,"system:masters"\n`, { mode: 0o600 });
    const caCert = fs.readFileSync(certPath, 'utf8');

    const [etcdClientPort, etcdPeerPort, port] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcd = startProc(
      bins.etcd,
      [
        '--name=cellgraph-test',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=cellgraph-test=http://127.0.0.1:${etcdPeerPort}`,
        '--logger=zap',
        '--log-level=warn'
      ],
      path.join(dir, 'etcd.log')
    );
    procs.push(etcd);
    await waitFor('etcd', etcd, 30_000, async () => {
      const res = await fetch(`${etcdUrl}/health`);
      const body = await res.text();
      return res.status === 200 && /"health":\s*"true"/.test(body) ? true : `${res.status} ${body}`;
    });

    const server = `https://127.0.0.1:${port}`;
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${certPath}`,
      `--tls-private-key-file=${keyPath}`,
      `--token-auth-file=${tokensPath}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${saPubPath}`,
      `--service-account-signing-key-file=${saKeyPath}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      // No token controller runs to create each namespace's `default` service account.
      '--disable-admission-plugins=ServiceAccount',
      // The `kubernetes` service's endpoints would be 127.0.0.1, which Endpoints validation refuses.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      `--cert-dir=${path.join(dir, 'certs')}`,
      '--profiling=false',
      '--v=0'
    ];
    const apiserverLog = path.join(dir, 'kube-apiserver.log');
    const startApiserver = async (): Promise<Proc> => {
      const p = startProc(bins.apiserver, apiserverArgs, apiserverLog);
      procs.push(p);
      await waitFor('kube-apiserver', p, readyTimeoutMs, async () => {
        const r = await httpsGet(`${server}/readyz`, caCert, token);
        return r.status === 200 ? true : `${r.status} ${r.body.slice(0, 500)}`;
      });
      return p;
    };
    let apiserver = await startApiserver();
    const version = (JSON.parse((await httpsGet(`${server}/version`, caCert, token)).body) as { gitVersion: string }).gitVersion;

    const kubeconfigPath = path.join(dir, 'kubeconfig');
    const caData = Buffer.from(caCert).toString('base64');
    fs.writeFileSync(
      kubeconfigPath,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: cellgraph-test',
        '  cluster:',
        `    server: ${server}`,
        `    certificate-authority-data: ${caData}`,
        'users:',
        '- name: cellgraph-admin',
        '  user:',
        `    token: ${token}`,
        'contexts:',
        '- name: cellgraph-test',
        '  context:',
        '    cluster: cellgraph-test',
        '    user: cellgraph-admin',
        '    namespace: default',
        'current-context: cellgraph-test',
        ''
      ].join('\n'),
      { mode: 0o600 }
    );

    let stopped = false;
    return {
      kubeconfigPath,
      server,
      token,
      caCert,
      version,
      restartApiServer: async () => {
        await kill(apiserver);
        apiserver = await startApiserver();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        for (const p of [...procs].reverse()) await kill(p);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
  } catch (e) {
    for (const p of [...procs].reverse()) await kill(p, 2_000);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
