import { Widget } from '@lumino/widgets';
import type { JsonValue, ParamSpec } from '@cellgraph/schema';

/** What a parameter input needs: a compiled notebook's ParamSpec, or a promoted version's parameter. */
export type ParamField = Pick<ParamSpec, 'name' | 'kind' | 'type' | 'default'> & { constrained?: boolean };
import { paramText, parseParam } from '../promote';
import { el } from './dom';

/**
 * One typed input per workflow parameter, prefilled from `params[].default` (the caller
 * passes remembered values there), with each bad value shown under its field. The run,
 * promote and version-run dialogs share it.
 */
export class ParamFields {
  private readonly inputs = new Map<string, HTMLInputElement>();
  private readonly errors = new Map<string, HTMLElement>();
  /** The section heading and one labelled row per parameter. */
  readonly rows: HTMLElement[] = [];

  constructor(private readonly params: readonly ParamField[], onInput: () => void) {
    if (params.length > 0) this.rows.push(el('h4', 'cg-DialogSection', 'Parameters'));
    for (const p of params) {
      const input = el('input', 'cg-Param');
      input.dataset.param = p.name;
      input.value = paramText(p);
      input.oninput = onInput;
      this.inputs.set(p.name, input);
      this.rows.push(fieldRow(`${p.name}: ${p.type}${p.constrained ? ' (checked by its param() schema)' : ''}`, input, `param.${p.name}`, this.errors));
    }
  }

  /** Shows each field's problem; true when every value parses. */
  validate(): boolean {
    let ok = true;
    for (const p of this.params) {
      const parsed = parseParam(p, this.inputs.get(p.name)?.value ?? '');
      showFieldError(this.errors, `param.${p.name}`, parsed.ok ? undefined : parsed.message);
      ok &&= parsed.ok;
    }
    return ok;
  }

  /** The typed values, or the first problem. */
  values(): Record<string, JsonValue> | Error {
    const params: Record<string, JsonValue> = {};
    for (const p of this.params) {
      const parsed = parseParam(p, this.inputs.get(p.name)?.value ?? '');
      if (!parsed.ok) return new Error(parsed.message);
      params[p.name] = parsed.value;
    }
    return params;
  }
}

/** A labelled control with its (hidden until needed) error line, registered under `field`. */
export function fieldRow(label: string, control: HTMLElement, field: string, errors: Map<string, HTMLElement>): HTMLElement {
  const l = el('label', 'cg-Field');
  const error = el('div', 'cg-FieldError');
  error.dataset.field = field;
  error.hidden = true;
  errors.set(field, error);
  l.append(label, control, error);
  return l;
}

/** Shows (or, given undefined, hides) the error line of a field. */
export function showFieldError(errors: Map<string, HTMLElement>, field: string, message: string | undefined): void {
  const e = errors.get(field);
  if (e === undefined) return;
  e.textContent = message ?? '';
  e.hidden = message === undefined;
}

/** Enables or disables the accept button of the dialog a widget is in. */
export function setAcceptEnabled(node: HTMLElement, enabled: boolean): void {
  const accept = node.closest('.jp-Dialog-content')?.querySelector<HTMLButtonElement>('.jp-Dialog-footer button.jp-mod-accept');
  if (accept) accept.disabled = !enabled;
}

/**
 * The body of the Run dialog: the parameters only (a development run has no target or
 * schedule). Run stays disabled while a value is bad.
 */
export class RunParamsBody extends Widget {
  private readonly fields: ParamFields;

  constructor(params: readonly ParamField[], note?: string) {
    super();
    this.addClass('cg-RunDialog');
    this.fields = new ParamFields(params, () => this.validate());
    if (note !== undefined) this.node.append(el('p', 'cg-DialogNote', note));
    this.node.append(...this.fields.rows);
    if (params.length === 0) this.node.append(el('p', 'cg-DialogNote', 'This workflow has no parameters.'));
  }

  protected onAfterAttach(): void {
    this.validate();
  }

  private validate(): void {
    setAcceptEnabled(this.node, this.fields.validate());
  }

  getValue(): Record<string, JsonValue> | Error {
    return this.fields.values();
  }
}
