import { z } from 'zod';

/** Where the runs client finds the cellgraph server, and the token it sends. */
export interface ServerConfig {
  /** The server's base URL, e.g. `http://127.0.0.1:8788`. */
  url: string;
  token: string;
}

const Env = z.object({
  CELLGRAPH_SERVER: z
    .string({ required_error: 'CELLGRAPH_SERVER is not set: the URL of the cellgraph server (as the CLI\'s --server)' })
    .url('CELLGRAPH_SERVER must be an http(s) URL')
    .regex(/^https?:\/\//, 'CELLGRAPH_SERVER must be an http(s) URL'),
  CELLGRAPH_TOKEN: z.string({ required_error: 'CELLGRAPH_TOKEN is not set: the server token (as for the CLI\'s --server)' }).min(1, 'CELLGRAPH_TOKEN is empty')
});

/**
 * The server of the environment, as the CLI's remote mode takes it: the URL in
 * CELLGRAPH_SERVER (the CLI's `--server`), the token in CELLGRAPH_TOKEN. A missing or bad
 * variable is an error naming it.
 */
export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = Env.safeParse({ CELLGRAPH_SERVER: blank(env.CELLGRAPH_SERVER), CELLGRAPH_TOKEN: blank(env.CELLGRAPH_TOKEN) });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return { url: parsed.data.CELLGRAPH_SERVER.replace(/\/+$/, ''), token: parsed.data.CELLGRAPH_TOKEN };
}

function blank(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
