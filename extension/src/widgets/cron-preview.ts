import { apiRoutes } from '@cellgraph/schema';
import { type CronProblem, checkCron } from '../schedules';
import type { ICellgraphServer } from '../tokens';
import { el } from './dom';

/**
 * The live preview under a cron field (schedule editor, promote dialog): 250 ms after the
 * last change it asks the server (checkCron) and shows the sentence and the next fires with
 * their zone; an answer to an older request is dropped. `problem` is what the form shows
 * under the field it names; `onChecked` runs after each answer so the form re-validates.
 */
export class CronPreview {
  /** The server's sentence. */
  readonly sentence = el('div', 'cg-CronPreview');
  /** The next fires, each with its zone. */
  readonly fires = el('ul', 'cg-NextFires');
  /** The current objection to the cron expression or time zone, if any. */
  problem?: CronProblem;
  private seq = 0;
  private timer?: ReturnType<typeof setTimeout>;

  /** `required`: a schedule is being created, so an empty cron expression is refused. */
  constructor(
    private readonly required: boolean,
    private readonly onChecked: () => void
  ) {}

  /** Re-checks 250 ms after the last call (typing). */
  schedule(server: ICellgraphServer, cron: string, timezone: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(server, cron, timezone), 250);
  }

  /** Checks now; resolves once the answer is shown (or dropped for a newer request). */
  async refresh(server: ICellgraphServer, cron: string, timezone: string): Promise<void> {
    const seq = ++this.seq;
    const check = await checkCron((body) => server.call(apiRoutes.previewCron, { body }), cron, timezone, this.required);
    if (seq !== this.seq) return;
    this.problem = check.ok ? undefined : check.problem;
    this.sentence.textContent = check.ok ? check.description : '';
    this.fires.replaceChildren(...(check.ok ? check.fires.map((f) => el('li', 'cg-Time', f)) : []));
    this.onChecked();
  }

  /** Stops a pending check (the dialog closed). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
