import type { Cell } from '@jupyterlab/cells';
import type { INotebookTracker } from '@jupyterlab/notebook';
import { treeViewIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { ANNOTATION_KEY } from '@cellgraph/schema';
import { type TagForm, annotationToForm, formToAnnotation } from '../annotations';

type TextField = Exclude<keyof TagForm, 'role' | 'cache'>;

const TEXT_FIELDS: { field: TextField; label: string; className: string; placeholder: string }[] = [
  { field: 'name', label: 'Task name', className: 'cg-TaskName', placeholder: 'train' },
  { field: 'after', label: 'After (tasks)', className: 'cg-After', placeholder: 'load, split' },
  { field: 'retries', label: 'Retries', className: 'cg-Retries', placeholder: '0' },
  { field: 'timeout', label: 'Timeout (s)', className: 'cg-Timeout', placeholder: '' },
  { field: 'cpu', label: 'CPU', className: 'cg-Cpu', placeholder: '500m' },
  { field: 'memory', label: 'Memory', className: 'cg-Memory', placeholder: '2Gi' },
  { field: 'gpu', label: 'GPUs', className: 'cg-Gpu', placeholder: '0' },
  { field: 'image', label: 'Image', className: 'cg-Image', placeholder: '' }
];

/** How long after the last key a text field's value is validated and written. */
const TYPING_MS = 300;

/**
 * The right-sidebar panel that tags the active cell: its role (task, setup, parameters,
 * skip) and a task's fields. Every change is validated with the schema's zod before it is
 * written to the cell's metadata; a bad value is shown next to its field and not written.
 */
export class TagPanel extends Widget {
  private readonly role = document.createElement('select');
  private readonly inputs = new Map<TextField, HTMLInputElement>();
  private readonly cache = document.createElement('input');
  private readonly errors = new Map<keyof TagForm, HTMLElement>();
  private readonly taskFields = document.createElement('div');
  private typing?: ReturnType<typeof setTimeout>;
  private typedIn?: Cell;
  /** The cell whose metadata the form follows (tagged from the cell toolbar or a command while shown). */
  private shown?: Cell;
  private writing = false;

  constructor(private readonly notebooks: INotebookTracker) {
    super();
    this.id = 'cg-tag-panel';
    this.addClass('cg-TagPanel');
    this.title.caption = 'cellgraph: cell tags';
    this.title.icon = treeViewIcon;
    this.role.className = 'cg-Role';
    for (const r of ['none', 'task', 'setup', 'parameters', 'skip']) this.role.append(new Option(r, r));
    this.node.append(this.labelled('Cell role', this.role, 'role'), this.taskFields);
    for (const f of TEXT_FIELDS) {
      const input = document.createElement('input');
      input.className = f.className;
      input.placeholder = f.placeholder;
      this.inputs.set(f.field, input);
      this.taskFields.append(this.labelled(f.label, input, f.field));
    }
    this.cache.type = 'checkbox';
    this.cache.className = 'cg-Cache';
    this.taskFields.append(this.labelled('Cache results', this.cache, 'cache'));
    this.node.addEventListener('change', () => this.write());
    // Text fields apply as they are typed (a moment after the last key), not only on blur:
    // an "After" typed and followed by a click on the DAG is already in the cell.
    this.node.addEventListener('input', () => {
      clearTimeout(this.typing);
      const cell = (this.typedIn = this.notebooks.activeCell ?? undefined);
      this.typing = setTimeout(() => cell && this.write(cell), TYPING_MS);
    });
    notebooks.activeCellChanged.connect(() => this.read());
    notebooks.currentChanged.connect(() => this.read());
    this.read();
  }

  /** Shown again (the sidebar opened): the active cell may have been tagged meanwhile, from the menu or a command. */
  protected onAfterShow(): void {
    this.read();
  }

  private labelled(text: string, control: HTMLElement, field: keyof TagForm): HTMLElement {
    const label = document.createElement('label');
    label.className = 'cg-Field';
    label.append(text, control);
    const error = document.createElement('div');
    error.className = 'cg-FieldError';
    error.dataset.field = field;
    error.hidden = true;
    this.errors.set(field, error);
    label.append(error);
    return label;
  }

  /** Shows the active cell's annotation. */
  private read(): void {
    // What was just typed goes to the cell it was typed for, before the form shows another one.
    if (this.typing !== undefined && this.typedIn !== undefined) this.write(this.typedIn);
    const cell = this.notebooks.activeCell;
    if (this.shown !== cell) {
      if (this.shown !== undefined && !this.shown.isDisposed) this.shown.model.metadataChanged.disconnect(this.onMetadata, this);
      this.shown = cell ?? undefined;
      this.shown?.model.metadataChanged.connect(this.onMetadata, this);
    }
    const form = annotationToForm(cell?.model.getMetadata(ANNOTATION_KEY));
    this.role.value = form.role;
    for (const [field, input] of this.inputs) input.value = form[field];
    this.cache.checked = form.cache;
    this.taskFields.hidden = form.role !== 'task';
    for (const e of this.errors.values()) e.hidden = true;
    this.role.disabled = cell === null || cell === undefined;
  }

  /** The shown cell's tag changed elsewhere: show it, unless it is this panel's own write or the user is typing. */
  private onMetadata(): void {
    if (!this.writing && this.typing === undefined) this.read();
  }

  /** Validates the form and writes the annotation, or shows why not. */
  private write(cell = this.notebooks.activeCell): void {
    clearTimeout(this.typing);
    this.typing = undefined;
    if (!cell || cell.isDisposed) return;
    const form = { role: this.role.value, cache: this.cache.checked } as TagForm;
    for (const [field, input] of this.inputs) form[field] = input.value;
    this.taskFields.hidden = form.role !== 'task';
    for (const e of this.errors.values()) e.hidden = true;
    const result = formToAnnotation(form);
    if (!result.ok) {
      const error = this.errors.get(result.field);
      if (error) {
        error.textContent = result.message;
        error.hidden = false;
      }
      return;
    }
    this.writing = true;
    try {
      if (result.annotation === undefined) cell.model.deleteMetadata(ANNOTATION_KEY);
      else cell.model.setMetadata(ANNOTATION_KEY, result.annotation);
    } finally {
      this.writing = false;
    }
  }
}
