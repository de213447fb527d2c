import { CellAnnotation, TaskAnnotation, readCellAnnotation } from '@cellgraph/schema';

/**
 * The tag panel's form and the cell annotation it stands for, both ways, as pure
 * functions. Validation is the schema's own zod (the compiler reads the same), so the
 * panel refuses exactly what the compiler would, naming the form field.
 */

export type Role = 'task' | 'setup' | 'parameters' | 'skip' | 'none';

/** The form as the user typed it (strings; empty means unset). */
export interface TagForm {
  role: Role;
  name: string;
  after: string;
  retries: string;
  timeout: string;
  cpu: string;
  memory: string;
  gpu: string;
  image: string;
  cache: boolean;
}

export type FormResult = { ok: true; annotation: CellAnnotation | undefined } | { ok: false; field: keyof TagForm; message: string };

const FIELD_OF: Record<string, keyof TagForm> = { task: 'name', after: 'after', retries: 'retries', timeoutSeconds: 'timeout', cpu: 'cpu', memory: 'memory', gpu: 'gpu', image: 'image', cache: 'cache' };

function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^-?[0-9]+(\.[0-9]+)?$/.test(t) ? Number(t) : t;
}

/** The annotation a form describes, or the first field at fault with the schema's reason. */
export function formToAnnotation(form: TagForm): FormResult {
  if (form.role === 'none') return { ok: true, annotation: undefined };
  if (form.role !== 'task') return { ok: true, annotation: { role: form.role } };
  const resources = { cpu: numberOrText(form.cpu), memory: form.memory.trim() || undefined, gpu: numberOrText(form.gpu) };
  const candidate = {
    task: form.name.trim(),
    after: form.after.trim() ? form.after.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    retries: numberOrText(form.retries),
    timeoutSeconds: numberOrText(form.timeout),
    cache: form.cache ? undefined : false,
    resources: Object.values(resources).some((v) => v !== undefined) ? resources : undefined,
    image: form.image.trim() || undefined
  };
  const parsed = TaskAnnotation.safeParse(JSON.parse(JSON.stringify(candidate)));
  if (parsed.success) return { ok: true, annotation: parsed.data };
  const issue = parsed.error.issues[0];
  const key = String(issue.path[issue.path[0] === 'resources' ? 1 : 0] ?? 'name');
  return { ok: false, field: FIELD_OF[key] ?? 'name', message: issue.message };
}

/** The form showing an annotation (a cell without one shows role `none`). */
export function annotationToForm(annotation: unknown): TagForm {
  const empty: TagForm = { role: 'none', name: '', after: '', retries: '', timeout: '', cpu: '', memory: '', gpu: '', image: '', cache: true };
  const parsed = CellAnnotation.safeParse(annotation);
  if (!parsed.success) return empty;
  const a = parsed.data;
  if ('role' in a) return { ...empty, role: a.role };
  const str = (v: unknown) => (v === undefined ? '' : String(v));
  return {
    role: 'task',
    name: a.task,
    after: (a.after ?? []).join(', '),
    retries: str(a.retries),
    timeout: str(a.timeoutSeconds),
    cpu: str(a.resources?.cpu),
    memory: str(a.resources?.memory),
    gpu: str(a.resources?.gpu),
    image: str(a.image),
    cache: a.cache !== false
  };
}

/**
 * The chip a cell shows for its own annotation (`task greet`, `setup`, `parameters`,
 * `skip`, or `invalid` when the JSON under `cellgraph` is not one the compiler reads);
 * undefined when the cell has none. Kale's and papermill's tags count, as the compiler
 * reads them.
 */
export function cellChip(metadata: Record<string, unknown> | undefined): { text: string; role: Role | 'invalid' } | undefined {
  const read = readCellAnnotation(metadata);
  if (!read.ok) return { text: 'invalid tag', role: 'invalid' };
  const a = read.annotation;
  if (a === undefined) return undefined;
  if ('task' in a) return { text: `task ${a.task}`, role: 'task' };
  return { text: a.role, role: a.role };
}
