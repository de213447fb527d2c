import { z } from 'zod';
import { JsonValue, type ParamSpec } from '@cellgraph/schema';

/**
 * What the run and promote dialogs remember per workflow between openings (and reloads):
 * the last parameter values, and the promote dialog's target and schedule. Kept in the
 * browser's localStorage, read back through zod (anything else there is ignored).
 */
const Remembered = z.object({
  params: z.record(JsonValue).optional(),
  target: z.string().optional(),
  cron: z.string().optional(),
  timezone: z.string().optional()
});
export type Remembered = z.infer<typeof Remembered>;

const key = (workflow: string) => `cellgraph:last-choice:${workflow}`;

/** The last choices made for a workflow (empty when none, or when storage is unavailable). */
export function recall(workflow: string): Remembered {
  try {
    const parsed = Remembered.safeParse(JSON.parse(localStorage.getItem(key(workflow)) ?? '{}'));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** Merges choices into what is remembered for a workflow. */
export function remember(workflow: string, choice: Remembered): void {
  try {
    localStorage.setItem(key(workflow), JSON.stringify({ ...recall(workflow), ...choice }));
  } catch {
    // Storage full or disabled: the dialogs fall back to the defaults.
  }
}

/**
 * The parameters as the dialogs prefill them: the remembered value of each parameter the
 * workflow still declares, else its default from the parameters cell.
 */
export function prefilledParams<P extends Pick<ParamSpec, 'name' | 'default'>>(workflow: string, params: readonly P[]): P[] {
  const last = recall(workflow).params ?? {};
  return params.map((p) => (Object.prototype.hasOwnProperty.call(last, p.name) ? { ...p, default: last[p.name] } : p));
}
