import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import {
  apiRoutes,
  type JsonValue,
  paramText,
  parseParamText,
  ScheduleCreate,
  type ScheduleCreateInput,
  ScheduleUpdate,
  type ScheduleView,
  type WorkflowVersion
} from '@cellgraph/schema';
import { scheduleZones } from '../schedules';
import type { ICellgraphServer } from '../tokens';
import { CronPreview } from './cron-preview';
import { el } from './dom';

/** What the editor asks the server to save: a new schedule, or the changes to one. */
export type ScheduleEdit = { create: ScheduleCreateInput } | { id: string; update: ScheduleUpdate };

/**
 * The schedule editor (a dialog body): name, version, cron previewed live by the server (a
 * sentence and the next fires, each with its zone), the time zone picked from the IANA zones
 * the browser knows, one typed input per parameter of the version, the concurrency, missed-run
 * and cache policies, the webhook, and paused. Each value is checked with the schema's zod as
 * it is typed and shown next to its field; Save stays disabled until all are valid.
 */
export class ScheduleEditor extends Widget {
  private readonly fields = new Map<string, HTMLInputElement | HTMLSelectElement>();
  private readonly errors = new Map<string, HTMLElement>();
  private readonly paramInputs = new Map<string, HTMLInputElement>();
  private readonly paramBox = el('div', 'cg-ScheduleParams');
  /** A schedule always has a cron expression: an empty one is refused. */
  private readonly cron = new CronPreview(true, () => this.validate());

  constructor(
    private readonly server: ICellgraphServer,
    private readonly workflow: string,
    private readonly versions: WorkflowVersion[],
    private readonly current?: ScheduleView
  ) {
    super();
    this.addClass('cg-ScheduleEditor');
    const s = current;
    const latest = versions[versions.length - 1];
    const text = (name: string, value: string, placeholder = '') => {
      const i = el('input', `cg-Schedule-${name}`);
      i.value = value;
      i.placeholder = placeholder;
      i.oninput = () => this.changed(name);
      this.fields.set(name, i);
      return i;
    };
    const choice = (name: string, options: [string, string][], value: string) => {
      const sel = el('select', `cg-Schedule-${name}`);
      for (const [v, t] of options) sel.append(new Option(t, v, false, v === value));
      sel.onchange = () => this.changed(name);
      this.fields.set(name, sel);
      return sel;
    };
    const zone = s?.timezone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
    const paused = el('input', 'cg-Schedule-paused');
    paused.type = 'checkbox';
    paused.checked = s?.paused ?? false;
    this.fields.set('paused', paused);
    const rows: HTMLElement[] = [
      this.row('Name', text('name', s?.name ?? '', 'e.g. nightly report'), 'name'),
      ...(s === undefined ? [this.row('Id (optional; part of run ids)', text('id', '', `${workflow}-nightly`), 'id')] : []),
      this.row('Version', choice('version', [...versions].reverse().map((v): [string, string] => [v.version, `v${v.number} · ${new Date(v.promotedAt).toLocaleString()}`]), s?.version ?? latest?.version ?? ''), 'version'),
      this.row('Cron (min hour day month weekday)', text('cron', s?.cron ?? '', 'e.g. 0 6 * * 1-5'), 'cron'),
      this.row('Time zone', choice('timezone', scheduleZones(zone).map((z): [string, string] => [z, z]), zone), 'timezone'),
      this.cron.sentence,
      this.cron.fires,
      this.paramBox,
      this.row('When a run is still active', choice('concurrencyPolicy', [['Forbid', 'Forbid: skip this fire'], ['Allow', 'Allow: start another run'], ['Replace', 'Replace: cancel it, start the new one']], s?.concurrencyPolicy ?? 'Forbid'), 'concurrencyPolicy'),
      this.row('Fires missed while the server was down', choice('missedRunPolicy', [['skip', 'skip them'], ['runOnce', 'run once, for the latest']], s?.missedRunPolicy ?? 'skip'), 'missedRunPolicy'),
      this.row('Cache', choice('cachePolicy', [['reuse', 'reuse results whose code and inputs did not change'], ['recompute', 'recompute every task']], s?.cachePolicy ?? 'reuse'), 'cachePolicy'),
      this.row('Webhook (notified when a run ends)', text('webhookUrl', s?.webhookUrl ?? '', 'https://…'), 'webhookUrl'),
      this.row('Paused', paused, 'paused')
    ];
    this.node.append(...rows);
    this.renderParams();
    this.changed('cron');
  }

  protected onAfterAttach(): void {
    this.validate();
  }

  private value(name: string): string {
    return this.fields.get(name)?.value.trim() ?? '';
  }

  private get version(): WorkflowVersion | undefined {
    return this.versions.find((v) => v.version === this.value('version'));
  }

  private row(label: string, control: HTMLElement, field: string): HTMLElement {
    const l = el('label', 'cg-Field');
    const error = el('div', 'cg-FieldError');
    error.dataset.field = field;
    error.hidden = true;
    this.errors.set(field, error);
    l.append(label, control, error);
    return l;
  }

  /** One typed input per parameter of the chosen version: the schedule's value, else the default. */
  private renderParams(): void {
    const v = this.version;
    const values = this.current?.params ?? {};
    const before = new Map([...this.paramInputs].map(([k, i]) => [k, i.value]));
    this.paramInputs.clear();
    const rows = (v?.params ?? []).map((p) => {
      const input = el('input', 'cg-Param');
      input.dataset.param = p.name;
      input.value = before.get(p.name) ?? (p.name in values ? paramText({ default: values[p.name] }) : paramText(p));
      input.oninput = () => this.validate();
      this.paramInputs.set(p.name, input);
      return this.row(`${p.name}: ${p.type}`, input, `params.${p.name}`);
    });
    this.paramBox.replaceChildren(...(rows.length > 0 ? [el('h4', 'cg-DialogSection', 'Parameters'), ...rows] : []));
  }

  private changed(name: string): void {
    if (name === 'version') this.renderParams();
    if (name === 'cron' || name === 'timezone') this.cron.schedule(this.server, this.value('cron'), this.value('timezone'));
    this.validate();
  }

  dispose(): void {
    this.cron.dispose();
    super.dispose();
  }

  /** The parameters as typed values, or the problem per field. */
  private params(): { values: Record<string, JsonValue>; problems: Map<string, string> } {
    const values: Record<string, JsonValue> = {};
    const problems = new Map<string, string>();
    for (const p of this.version?.params ?? []) {
      const parsed = parseParamText(p, this.paramInputs.get(p.name)?.value ?? '');
      if (parsed.ok) values[p.name] = parsed.value;
      else problems.set(`params.${p.name}`, parsed.problem.message);
    }
    return { values, problems };
  }

  /** The request the form stands for, checked with the schema's zod; problems by field. */
  private request(): { edit?: ScheduleEdit; problems: Map<string, string> } {
    const { values, problems } = this.params();
    const name = this.value('name');
    const webhook = this.value('webhookUrl');
    const common = {
      version: this.value('version'),
      cron: this.value('cron'),
      timezone: this.value('timezone'),
      params: values,
      concurrencyPolicy: this.value('concurrencyPolicy'),
      missedRunPolicy: this.value('missedRunPolicy'),
      cachePolicy: this.value('cachePolicy'),
      paused: (this.fields.get('paused') as HTMLInputElement).checked
    };
    const id = this.value('id');
    const parsed =
      this.current === undefined
        ? ScheduleCreate.safeParse({ ...common, workflow: this.workflow, ...(id ? { id } : {}), ...(name ? { name } : {}), ...(webhook ? { webhookUrl: webhook } : {}) })
        : ScheduleUpdate.safeParse({ ...common, name: name || null, webhookUrl: webhook || null });
    if (!parsed.success) for (const issue of parsed.error.issues) problems.set(String(issue.path[0] ?? 'form'), issue.message);
    if (this.cron.problem !== undefined) problems.set(this.cron.problem.field, this.cron.problem.message);
    if (problems.size > 0 || !parsed.success) return { problems };
    const edit: ScheduleEdit = this.current === undefined ? { create: parsed.data as ScheduleCreateInput } : { id: this.current.id, update: parsed.data as ScheduleUpdate };
    return { edit, problems };
  }

  /** Shows each field's problem; Save is enabled only when there is none. */
  private validate(): boolean {
    const { problems } = this.request();
    for (const [field, e] of this.errors) {
      const message = problems.get(field);
      e.textContent = message ?? '';
      e.hidden = message === undefined;
    }
    const accept = this.node.closest('.jp-Dialog-content')?.querySelector<HTMLButtonElement>('.jp-Dialog-footer button.jp-mod-accept');
    if (accept) accept.disabled = problems.size > 0;
    return problems.size === 0;
  }

  getValue(): ScheduleEdit | Error {
    const { edit, problems } = this.request();
    if (edit !== undefined) return edit;
    const [field, message] = [...problems][0] ?? ['form', 'not valid'];
    return new Error(`${field}: ${message}`);
  }
}

/**
 * Creates a schedule of `workflow` on `server`, or edits `current`, through the editor; the
 * server's own checks (the version exists, parameters fit it) answer in an error naming the
 * field. The saved schedule, or undefined when cancelled.
 */
export async function editSchedule(server: ICellgraphServer, workflow: string, current?: ScheduleView): Promise<ScheduleView | undefined> {
  const { versions } = await server.call(apiRoutes.listVersions, { params: { name: workflow } });
  const body = new ScheduleEditor(server, workflow, versions, current);
  const title = current === undefined ? `Schedule ${workflow}` : `Edit schedule ${current.name ?? current.id}`;
  const answer = await showDialog({ title, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save' })] });
  if (!answer.button.accept) return undefined;
  const edit = answer.value;
  if (edit === null || edit instanceof Error) {
    await showErrorMessage(title, edit ?? 'no values');
    return undefined;
  }
  try {
    return 'create' in edit ? await server.call(apiRoutes.createSchedule, { body: edit.create }) : await server.call(apiRoutes.updateSchedule, { params: { id: edit.id }, body: edit.update });
  } catch (err) {
    await showErrorMessage(title, (err as Error).message);
    return undefined;
  }
}
