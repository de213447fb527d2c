import { Widget } from '@lumino/widgets';
import { apiRoutes, type HealthResponse, type JsonValue, type ParamSpec } from '@cellgraph/schema';
import type { Remembered } from '../remembered';
import { scheduleZones } from '../schedules';
import type { ICellgraphServer, ICellgraphTargets, TargetName } from '../tokens';
import { CronPreview } from './cron-preview';
import { el } from './dom';
import { ParamFields, fieldRow, setAcceptEnabled, showFieldError } from './param-fields';

/** What the user asked for in the promote dialog. */
export interface PromoteChoice {
  params: Record<string, JsonValue>;
  /** Where the version is promoted and run. */
  target: TargetName;
  schedule?: { cron: string; timezone: string };
}

const EXECUTORS: Record<HealthResponse['executor'], string> = {
  local: 'local processes on the server',
  kubernetes: 'one pod per task on Kubernetes'
};

/** A target as the dialog names it. */
function targetText(server: ICellgraphServer): string {
  return server.target === 'production' ? `production (${server.label})` : 'development (this JupyterLab\'s server)';
}

/**
 * The body of the "Promote to production" dialog: one typed input per parameter (defaults
 * from the parameters cell), the target (the server's executor), and an optional schedule
 * whose cron expression is previewed live by the server (a sentence and the next fire
 * times, each with the chosen zone; an empty cron expression means no schedule). A bad value is shown next to its field and the Promote button
 * stays disabled until it is fixed.
 */
export class PromoteBody extends Widget {
  private readonly fields: ParamFields;
  private readonly errors = new Map<string, HTMLElement>();
  private readonly cron = el('input', 'cg-Cron');
  private readonly timezone = el('input', 'cg-Timezone');
  private readonly target = el('select', 'cg-Target');
  /** The schedule is optional here: an empty cron expression means none. */
  private readonly cronPreview = new CronPreview(false, () => this.validate());

  /**
   * `params` carry the values to prefill as their defaults; `last` is what was chosen the
   * last time (target and schedule), which wins over the preselection.
   */
  constructor(params: ParamSpec[], private readonly targets: ICellgraphTargets, last: Remembered = {}) {
    super();
    this.addClass('cg-PromoteDialog');
    this.fields = new ParamFields(params, () => this.validate());
    const rows = this.fields.rows;
    // Production preselected when configured: promoting is about leaving the development server.
    const chosen = targets.all.find((s) => s.target === last.target) ?? targets.preferred;
    for (const server of targets.all) {
      // A target where the user may not promote (a viewer of the project) is shown, not offered.
      const refused = server.identity !== undefined && !server.identity.can('promote') ? ` (${server.identity.role() ?? 'not a member'} in project ${server.identity.project}: cannot promote)` : '';
      const option = new Option(targetText(server) + refused, server.target, false, server === chosen && refused === '');
      option.disabled = refused !== '';
      this.target.append(option);
      void server.call(apiRoutes.health).then(
        (h) => (option.text = `${targetText(server)}: ${EXECUTORS[h.executor]}${refused}`),
        () => (option.text = `${targetText(server)} (not reachable now)${refused}`)
      );
    }
    this.target.onchange = () => this.schedulePreview();
    this.cron.placeholder = 'optional, e.g. 0 6 * * 1-5';
    this.cron.value = last.cron ?? '';
    this.timezone.value = last.timezone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
    const zones = el('datalist', '');
    zones.id = `cg-zones-${Math.random().toString(36).slice(2)}`;
    zones.append(...scheduleZones().map((z) => new Option(z, z)));
    this.timezone.setAttribute('list', zones.id);
    this.cron.oninput = this.timezone.oninput = () => this.schedulePreview();
    this.node.append(
      ...rows,
      el('h4', 'cg-DialogSection', 'Target'),
      this.row('Runs on', this.target, 'target'),
      el('h4', 'cg-DialogSection', 'Schedule'),
      this.row('Cron (min hour day month weekday)', this.cron, 'cron'),
      this.row('Time zone', this.timezone, 'timezone'),
      zones,
      this.cronPreview.sentence,
      this.cronPreview.fires
    );
  }

  /** The server the user picked. */
  private get server(): ICellgraphServer {
    return this.targets.all.find((s) => s.target === this.target.value) ?? this.targets.preferred;
  }

  protected onAfterAttach(): void {
    this.validate();
    if (this.cron.value.trim() !== '') this.schedulePreview();
  }

  private row(label: string, control: HTMLElement, field: string): HTMLElement {
    return fieldRow(label, control, field, this.errors);
  }

  /** Shows every field's problem and enables Promote only when there is none. */
  private validate(): boolean {
    let ok = this.fields.validate();
    const problem = this.cronPreview.problem;
    showFieldError(this.errors, 'cron', problem?.field === 'cron' ? problem.message : undefined);
    showFieldError(this.errors, 'timezone', problem?.field === 'timezone' ? problem.message : undefined);
    ok &&= problem === undefined;
    setAcceptEnabled(this.node, ok);
    return ok;
  }

  private schedulePreview(): void {
    this.cronPreview.schedule(this.server, this.cron.value, this.timezone.value);
  }

  dispose(): void {
    this.cronPreview.dispose();
    super.dispose();
  }

  /** The user's choice, or the first problem when a value is not valid. */
  getValue(): PromoteChoice | Error {
    const params = this.fields.values();
    if (params instanceof Error) return params;
    if (this.cronPreview.problem !== undefined) return new Error(this.cronPreview.problem.message);
    const cron = this.cron.value.trim();
    return { params, target: this.server.target, ...(cron ? { schedule: { cron, timezone: this.timezone.value.trim() || 'UTC' } } : {}) };
  }
}
