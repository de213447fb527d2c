import { z } from 'zod';
import { parseImageReference } from '../images/reference';
import { parseOrThrow } from '../zod-issue';

/** A Secret's name and the key inside it. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** A DNS-1123 label: namespaces and object names. */
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits and -)');

/** A Secret name (DNS-1123 subdomain). */
const secretName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a Secret name (DNS-1123 subdomain)');

/** A Secret data key. */
const secretKey = z
  .string()
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key (letters, digits, -, _ and .)');

/** `NAME[:KEY]`, KEY defaulting to `defaultKey`. */
function secretRef(defaultKey: string) {
  return z
    .string()
    .transform((text) => {
      const at = text.indexOf(':');
      return at < 0 ? { name: text, key: defaultKey } : { name: text.slice(0, at), key: text.slice(at + 1) };
    })
    .pipe(z.object({ name: secretName, key: secretKey }));
}

/** What `cellgraph deploy render` renders, validated; every field maps to one flag (FLAGS). */
export const DeployOptions = z
  .object({
    /** Namespace of the server's own objects. */
    namespace: dnsLabel.default('cellgraph'),
    /** The server's image (`cellgraph deploy image` builds it). */
    image: z.string().min(1),
    replicas: z.coerce.number().int().min(1).max(100).default(2),
    /** Secret with the PostgreSQL URL (CELLGRAPH_DATABASE_URL) the replicas share. */
    databaseSecret: secretRef('url'),
    /** Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; omitted when the cluster's workload identity supplies them. */
    s3Secret: secretName.optional(),
    /** `s3://bucket[/prefix]`: values, logs and executed notebooks, shared by replicas and task pods. */
    store: z.string().regex(/^s3:\/\/[^/]+(\/.*)?$/, 'must be s3://bucket[/prefix]'),
    s3Endpoint: z.string().url().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL').optional(),
    /** Secret with the server's API token (CELLGRAPH_TOKEN). */
    tokenSecret: secretRef('token'),
    /** Namespace task pods run in (default: the server's). */
    runNamespace: dnsLabel.optional(),
    /** Repository the server pushes workflow images to (CELLGRAPH_IMAGE_REPO). */
    workflowRepo: z.string().min(1).optional(),
    /** Base image of workflow images (CELLGRAPH_BASE_IMAGE; default node:24-bookworm-slim). */
    workflowBase: z.string().min(1).optional(),
    json: z.boolean().default(false)
  })
  .strict();
export type DeployOptions = z.infer<typeof DeployOptions> & { runNamespace: string };

/** The flag each option comes from, so an error names what the user typed. */
const FLAGS: Record<string, string> = {
  namespace: '--namespace',
  image: '--image',
  replicas: '--replicas',
  databaseSecret: '--database-secret',
  s3Secret: '--s3-secret',
  store: '--store',
  s3Endpoint: '--s3-endpoint',
  tokenSecret: '--token-secret',
  runNamespace: '--run-namespace',
  workflowRepo: '--workflow-repo',
  workflowBase: '--workflow-base',
  json: '--json'
};

/** Validates the flags of `deploy render`; a ValidationError (exit 2) names the flag at fault. */
export function parseDeployOptions(flags: Record<string, unknown>): DeployOptions {
  const flagOf = (path: string[]) => FLAGS[path[0]] ?? path[0];
  const parsed = parseOrThrow(DeployOptions, flags, { field: flagOf, label: (path) => [flagOf(path), ...path.slice(1)].join(' ') });
  // Image references are checked by the one parser the image builder uses; its error names the flag.
  parseImageReference(parsed.image, FLAGS.image);
  if (parsed.workflowRepo !== undefined) parseImageReference(parsed.workflowRepo, FLAGS.workflowRepo);
  if (parsed.workflowBase !== undefined) parseImageReference(parsed.workflowBase, FLAGS.workflowBase);
  return { ...parsed, runNamespace: parsed.runNamespace ?? parsed.namespace };
}
