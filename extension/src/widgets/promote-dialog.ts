import { Widget } from '@lumino/widgets';
import { CronPreviewResponse, type JsonValue, type ParamSpec } from '@cellgraph/schema';
import { ServerError, requestAPI } from '../api';
import { paramText, parseParam } from '../promote';

/** What the user asked for in the promote dialog. */
export interface PromoteChoice {
  params: Record<string, JsonValue>;
  schedule?: { cron: string; timezone: string };
}

/**
 * The body of the "Promote to production" dialog: one typed input per parameter (defaults
 * from the parameters cell), the target, and an optional schedule whose cron expression is
 * previewed live by the server (a sentence and the next fire times in the chosen zone).
 */
export class PromoteBody extends Widget {
  private readonly inputs = new Map<string, HTMLInputElement>();
  private readonly cron = document.createElement('input');
  private readonly timezone = document.createElement('input');
  private readonly preview = document.createElement('div');
  private readonly fires = document.createElement('ul');
  private readonly problem = document.createElement('div');
  private timer?: number;

  constructor(private readonly params: ParamSpec[], private readonly server: string, executor: string) {
    super();
    this.addClass('cg-PromoteDialog');
    const rows: HTMLElement[] = [];
    for (const p of params) {
      const input = document.createElement('input');
      input.className = 'cg-Param';
      input.dataset.param = p.name;
      input.value = paramText(p);
      this.inputs.set(p.name, input);
      rows.push(this.row(`${p.name}: ${p.type}`, input));
    }
    const target = document.createElement('select');
    target.className = 'cg-Target';
    target.append(new Option(`the cellgraph server (${executor})`, 'server'));
    this.cron.className = 'cg-Cron';
    this.cron.placeholder = 'optional, e.g. 0 6 * * 1-5';
    this.timezone.className = 'cg-Timezone';
    this.timezone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    this.preview.className = 'cg-CronPreview';
    this.fires.className = 'cg-NextFires';
    this.problem.className = 'cg-FieldError';
    this.cron.oninput = this.timezone.oninput = () => this.schedulePreview();
    this.node.append(...rows, this.row('Target', target), this.row('Schedule (cron)', this.cron), this.row('Time zone', this.timezone), this.preview, this.fires, this.problem);
  }

  private row(label: string, control: HTMLElement): HTMLElement {
    const l = document.createElement('label');
    l.className = 'cg-Field';
    l.append(label, control);
    return l;
  }

  private schedulePreview(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refreshPreview(), 250);
  }

  private async refreshPreview(): Promise<void> {
    const cron = this.cron.value.trim();
    this.fires.replaceChildren();
    if (cron === '') {
      this.preview.textContent = '';
      return;
    }
    try {
      const p = await requestAPI(this.server, 'api/v1/schedules/preview', CronPreviewResponse, { method: 'POST', json: { cron, timezone: this.timezone.value.trim() || 'UTC', count: 5 } });
      this.preview.textContent = p.description;
      this.fires.replaceChildren(...p.nextFires.map((f) => Object.assign(document.createElement('li'), { textContent: new Date(f).toLocaleString(undefined, { timeZone: this.timezone.value.trim() || 'UTC' }) })));
    } catch (err) {
      this.preview.textContent = err instanceof ServerError ? err.message : (err as Error).message;
    }
  }

  /** The user's choice, or the first problem (shown in the dialog) when a value is not valid. */
  getValue(): PromoteChoice | Error {
    const params: Record<string, JsonValue> = {};
    for (const p of this.params) {
      const parsed = parseParam(p, this.inputs.get(p.name)?.value ?? '');
      if (!parsed.ok) return new Error(parsed.message);
      params[p.name] = parsed.value;
    }
    const cron = this.cron.value.trim();
    return { params, ...(cron ? { schedule: { cron, timezone: this.timezone.value.trim() || 'UTC' } } : {}) };
  }
}
