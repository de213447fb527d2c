import { randomBytes } from 'node:crypto';

/**
 * A new run id: sortable by creation time, unique without coordination, safe in paths,
 * pod names and labels: `r-20261124t153000-1a2b3c`.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}
