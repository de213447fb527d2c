/**
 * JupyterHub sign-in, in a real browser: three users sign in to a real JupyterHub (hub/setup.js)
 * and reach the production cellgraph server with their own Hub identity, nothing pasted.
 * alice (Hub group ml-editors -> editor of `ml`) promotes hello and schedules it; bob
 * (ml-viewers -> viewer) sees the run and the schedule but is offered no action on them, and the
 * server refuses them (403); carol (no group) sees nothing of `ml`, and the server answers 404.
 */
import * as path from 'path';
import { expect, test, type Browser, type Page } from '@playwright/test';

const HUB = process.env.CELLGRAPH_UI_HUB_URL as string;
const PASSWORD = process.env.CELLGRAPH_UI_HUB_PASSWORD as string;
const PROD = process.env.CELLGRAPH_UI_HUB_PROD_URL as string;
const PROD_TOKEN = process.env.CELLGRAPH_UI_HUB_PROD_TOKEN as string;
const SHOTS = path.resolve(__dirname, '..', 'screenshots');

interface LabWindow {
  jupyterapp?: { restored: Promise<void>; commands: { hasCommand(id: string): boolean; execute(id: string, args?: unknown): Promise<unknown> } };
}

/** A user in a browser of their own: signed in at the Hub, in their JupyterLab once it is up. */
class HubUser {
  readonly errors: string[] = [];
  private constructor(readonly name: string, readonly page: Page) {
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  static async signIn(browser: Browser, name: string): Promise<HubUser> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const user = new HubUser(name, await context.newPage());
    const page = user.page;
    await page.goto(`${HUB}hub/login`);
    await page.locator('#username_input').fill(name);
    await page.locator('#password_input').fill(PASSWORD);
    await page.locator('#login_submit').click();
    // The Hub spawns the user's server, then sends the browser to its JupyterLab.
    await page.waitForURL(new RegExp(`/user/${name}/lab`), { timeout: 180000 });
    await page.waitForFunction(() => (window as unknown as LabWindow).jupyterapp?.commands.hasCommand('cellgraph:open-runs') === true, undefined, { timeout: 120000 });
    // The layout restored: a sidebar activated before would be folded away again.
    await page.evaluate(() => (window as unknown as LabWindow).jupyterapp?.restored);
    return user;
  }

  async exec(command: string, args?: unknown): Promise<void> {
    await this.page.evaluate(([id, a]) => void (window as unknown as LabWindow).jupyterapp?.commands.execute(id as string, a), [command, args] as const);
  }

  /** Calls production through this user's Jupyter server (which adds their Hub token), as the extension does. */
  async production(method: string, route: string, body?: unknown): Promise<number> {
    return this.page.evaluate(
      async ([m, url, b]) => {
        const xsrf = /(?:^|;\s*)_xsrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
        const res = await fetch(url as string, { method: m as string, headers: { 'content-type': 'application/json', 'x-xsrftoken': decodeURIComponent(xsrf) }, ...(b === undefined ? {} : { body: JSON.stringify(b) }) });
        return res.status;
      },
      [method, `/user/${this.name}/cellgraph-targets/production/api/v1${route}`, body] as const
    );
  }

  /** The runs sidebar, with this user's identity bar for production. */
  async openRuns(): Promise<void> {
    await expect(async () => {
      await this.exec('cellgraph:open-runs');
      await expect(this.page.locator('.cg-RunsPanel')).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 30000 });
    await expect(this.page.locator('.cg-Identity[data-target="production"] .cg-WhoAmI')).toHaveText(this.name, { timeout: 30000 });
  }
}

async function prodGet<T>(route: string): Promise<T> {
  const res = await fetch(`${PROD}/api/v1${route}`, { headers: { authorization: `Bearer ${PROD_TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

test('an editor promotes and schedules in ml; a viewer sees but may not act; a non-member sees nothing', async ({ browser }) => {
  // alice: editor of ml, signed in with her Hub account only.
  const alice = await HubUser.signIn(browser, 'alice');
  const settings = (await (await alice.page.request.get(`${HUB}user/alice/cellgraph-targets/production`)).json()) as Record<string, unknown>;
  expect(settings).toMatchObject({ configured: true, url: PROD, source: 'environment', identity: 'jupyterhub', hubUser: 'alice' });
  // The production settings say whose identity is used: nothing to paste.
  await alice.exec('cellgraph:configure-production');
  await expect(alice.page.locator('.cg-ProductionDialog .cg-DialogNote')).toContainText('you reach it as alice');
  await expect(alice.page.locator('.cg-ProductionDialog input.cg-ProductionToken')).toBeHidden();
  await alice.page.locator('.jp-Dialog-footer button', { hasText: 'Cancel' }).click();
  await alice.openRuns();
  const bar = alice.page.locator('.cg-Identity[data-target="production"]');
  await expect(bar.locator('select.cg-Project')).toHaveValue('ml');
  await expect(bar.locator('.cg-Role')).toHaveText('editor');

  await alice.exec('docmanager:open', { path: 'hello.ipynb', factory: 'Notebook' });
  await expect(alice.page.locator('.jp-NotebookPanel:visible .jp-Cell').first()).toBeVisible({ timeout: 60000 });
  await alice.exec('cellgraph:open-dag');
  await expect(alice.page.locator('g.cg-Node[data-task="shout"]')).toBeVisible({ timeout: 150000 });
  await alice.page.locator('button.cg-Promote').click();
  const dialog = alice.page.locator('.cg-PromoteDialog');
  await expect(dialog.locator('select.cg-Target')).toHaveValue('production');
  await dialog.locator('input.cg-Cron').fill('0 6 * * *');
  await dialog.locator('input.cg-Timezone').fill('UTC');
  await expect(dialog.locator('.cg-CronPreview')).toContainText('06:00', { timeout: 15000 });
  await alice.page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();
  const runBar = alice.page.locator('.cg-DagPanel .cg-RunBar');
  await expect(runBar.locator('.cg-RunStatus')).toHaveAttribute('data-status', 'succeeded', { timeout: 120000 });
  const runId = ((await runBar.locator('.cg-RunId').textContent()) ?? '').trim();

  // On production, in project ml, with alice's schedule.
  const runs = await prodGet<{ runs: { id: string; project?: string }[] }>('/runs?limit=10');
  expect(runs.runs.find((r) => r.id === runId)).toMatchObject({ project: 'ml' });
  const { schedules } = await prodGet<{ schedules: { id: string; workflow: string; project?: string }[] }>('/schedules');
  const schedule = schedules.find((s) => s.workflow === 'hello');
  expect(schedule).toMatchObject({ project: 'ml' });
  const scheduleId = schedule?.id as string;
  // An editor is offered pausing the schedule and running a version (deleting is an admin's).
  const aliceSchedule = alice.page.locator(`li.cg-Schedule[data-schedule-id="${scheduleId}"]`);
  await expect(aliceSchedule.locator('.cg-Pause')).toBeVisible({ timeout: 15000 });
  await alice.page.locator('li.cg-Version[data-target="production"] .cg-VersionHead').click();
  await expect(alice.page.locator('li.cg-Version[data-target="production"] .cg-RunVersion').first()).toBeVisible();

  // bob: viewer of ml. He sees the run and the schedule; no action on them is offered...
  const bob = await HubUser.signIn(browser, 'bob');
  await bob.openRuns();
  await expect(bob.page.locator('.cg-Identity[data-target="production"] .cg-Role')).toHaveText('viewer');
  const bobRun = bob.page.locator(`li.cg-Run[data-run-id="${runId}"][data-target="production"]`);
  await expect(bobRun).toBeVisible({ timeout: 15000 });
  await expect(bobRun.locator('.cg-TaskLogs')).toBeVisible();
  const bobSchedule = bob.page.locator(`li.cg-Schedule[data-schedule-id="${scheduleId}"]`);
  await expect(bobSchedule).toBeVisible();
  await expect(bobSchedule.locator('.cg-Pause, .cg-Resume, .cg-Delete')).toHaveCount(0);
  await bob.page.locator('li.cg-Version[data-target="production"] .cg-VersionHead').click();
  await expect(bob.page.locator('li.cg-Version[data-target="production"] .cg-VersionItem').first()).toBeVisible();
  await expect(bob.page.locator('li.cg-Version[data-target="production"] .cg-RunVersion')).toHaveCount(0);
  await expect(bobRun.locator('.cg-Cancel, .cg-Retry')).toHaveCount(0);
  await bob.page.locator('.cg-RunsPanel').screenshot({ path: path.join(SHOTS, 'hub-viewer-runs.png') });
  // ...and the server refuses them all the same.
  expect(await bob.production('GET', `/runs/${runId}`)).toBe(200);
  expect(await bob.production('POST', '/workflows/hello/versions/1/runs', {})).toBe(403);
  expect(await bob.production('POST', `/runs/${runId}/cancel`)).toBe(403);
  expect(await bob.production('POST', `/schedules/${scheduleId}/pause`)).toBe(403);
  expect(await bob.production('DELETE', `/schedules/${scheduleId}`)).toBe(403);

  // carol: no member of ml. Nothing of it is listed, and the server says it does not exist.
  const carol = await HubUser.signIn(browser, 'carol');
  await carol.openRuns();
  await expect(carol.page.locator('.cg-Identity[data-target="production"] .cg-NoProject')).toBeVisible();
  await expect(carol.page.locator('li.cg-Run[data-target="development"], li.cg-Empty').first()).toBeVisible({ timeout: 15000 });
  await expect(carol.page.locator('[data-target="production"].cg-Run, [data-target="production"].cg-Schedule, [data-target="production"].cg-Version')).toHaveCount(0);
  expect(await carol.production('GET', `/runs/${runId}`)).toBe(404);
  expect(await carol.production('GET', `/schedules/${scheduleId}`)).toBe(404);
  expect(await carol.production('POST', `/runs/${runId}/cancel`)).toBe(404);

  for (const user of [alice, bob, carol]) expect(user.errors).toEqual([]);
});
