/** `cellgraph validate` (like every command) loads only what it uses: here, heavy modules it must not need throw when loaded. */
import { buildProgram } from '../main';

jest.mock('@kubernetes/client-node', () => {
  throw new Error('validate loaded the Kubernetes client');
});
jest.mock('fastify', () => {
  throw new Error('validate loaded the HTTP server');
});
jest.mock('better-sqlite3', () => {
  throw new Error('validate loaded SQLite');
});
jest.mock('@aws-sdk/client-s3', () => {
  throw new Error('validate loaded the S3 client');
});

it('registers validate without loading the Kubernetes client, the HTTP server, SQLite or S3', async () => {
  expect((await buildProgram('validate')).commands.map((c) => c.name())).toEqual(['validate']);
  await import('../compile');
});
