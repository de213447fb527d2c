/**
 * A real S3-compatible server for tests and benchmarks: moto's server mode (from PyPI,
 * installed into .venv by scripts/setup.sh) on 127.0.0.1, stopped by PID. moto speaks
 * the S3 REST API (SigV4, multipart, HEAD/GET/PUT semantics) that MinIO and AWS speak.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './registry';

export interface TestS3Server {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  /** Credentials the server accepts (moto accepts any; these are what clients send). */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_REGION: string };
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const MOTO = path.resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'moto_server');

/** Starts moto_server on a free port (or the given one, to restart on the same endpoint). */
export async function startS3Server(port?: number): Promise<TestS3Server> {
  if (!fs.existsSync(MOTO)) throw new Error(`${MOTO} is missing: run "bash scripts/setup.sh" (it installs moto[server] into .venv)`);
  const p = port ?? (await freePort());
  const child: ChildProcess = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(p)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const endpoint = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start on ${endpoint}: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const env = { AWS_ACCESS_KEY_ID: 'cellgraph-test', AWS_SECRET_ACCESS_KEY: 'cellgraph-test-secret', AWS_REGION: 'us-east-1' };
  return {
    endpoint,
    port: p,
    env,
    createBucket: async (name) => {
      const client = new S3Client({ endpoint, region: env.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  };
}
