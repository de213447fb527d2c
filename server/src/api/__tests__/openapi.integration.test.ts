/**
 * The OpenAPI document against the server it describes: schemathesis (PyPI, installed into
 * .venv by scripts/setup.sh from scripts/requirements.txt) runs every check, all four phases
 * (examples, coverage, fuzzing and the stateful phase, which follows the document's links)
 * against the real `cellgraph server` process on 127.0.0.1, and must report nothing: no
 * failure and no warning. A run, a promoted version and a schedule are seeded first, and
 * their ids given to schemathesis, so the operations on them are exercised on real
 * resources rather than answering 404 throughout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { PromoteResponse, RunDetail, ScheduleView, apiRoutes, routeUrl } from '@cellgraph/schema';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(20 * 60_000);

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
/** The schemathesis CLI: the set-up's venv, or CELLGRAPH_SCHEMATHESIS (a private install). */
const SCHEMATHESIS = process.env.CELLGRAPH_SCHEMATHESIS ?? path.join(ROOT, '.venv', 'bin', 'schemathesis');
const TOKEN = 'openapi-test-token-0123456789';

/**
 * What schemathesis may expect of a request the document calls valid: success, or an
 * answer about state (404 unknown id, 409 conflict) or meaning (422: a notebook that does
 * not compile, a cron expression that never fires). A 400 means "does not match the
 * document", so a valid request must never get one.
 */
/**
 * Warnings for the operations whose bodies depend on the workflow: all but the two 4xx-rate
 * heuristics (schemathesis gates validation_mismatch behind missing_test_data's display
 * setting, so both go; these operations are served throughout, on the seeded notebook,
 * version and schedule).
 */
const SEMANTIC_WARNINGS = [
  'missing_auth',
  'base_url_mismatch',
  'missing_deserializer',
  'unused_openapi_auth',
  'unsupported_regex',
  'method_not_allowed',
  'unresolvable_reference',
  'low_valid_rate',
  'rate_limited',
  'dictionary_mismatch',
  'timeout_units'
]
  .map((w) => JSON.stringify(w))
  .join(', ');

const CONFIG = (ids: { runId: string; foreachRunId: string; workflow: string; version: string; schedule: string; doomed: string[]; notebook: string; hook: string }) => `
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "404", "409", "422", "503"]

[warnings]
fail-on = true

# Values random data cannot guess: a notebook that compiles, the seeded workflow and version,
# and a webhook that refuses connections at once (no request leaves the machine).
[dictionaries.notebook]
values = [${JSON.stringify(ids.notebook)}]
[dictionaries.workflow]
values = [${JSON.stringify(ids.workflow)}]
[dictionaries.version]
values = [${JSON.stringify(ids.version)}]
[dictionaries.doomed]
values = ${JSON.stringify(ids.doomed)}
[dictionaries.hook]
values = [${JSON.stringify(ids.hook)}]

[dictionaries.notebookPath]
values = ["hello.ipynb"]
# Elements the seeded foreach task has.
[dictionaries.element]
values = [0, 1, 2]

# schemathesis applies the first [[operations]] entry an operation matches.
# Whether these bodies can be carried out depends on what no schema can state: that the
# notebook compiles, that params name the parameters the workflow declares, that a cron
# range runs upwards (422 otherwise). Random bodies matching the document are often refused
# for those reasons, which schemathesis' 4xx-rate heuristics read as a document looser than
# the server; every other warning still fails the run (see SEMANTIC_WARNINGS).
[[operations]]
include-operation-id-regex = "^(createRun|promote)$"
parameters = { "body.notebook" = { dictionary = "notebook" }, "body.notebookPath" = { dictionary = "notebookPath" }, "body.webhookUrl" = { dictionary = "hook" } }
warnings = { fail-on = [${SEMANTIC_WARNINGS}], display = [${SEMANTIC_WARNINGS}] }

[[operations]]
include-operation-id = "createSchedule"
parameters = { "body.workflow" = { dictionary = "workflow" }, "body.version" = { dictionary = "version" }, "body.webhookUrl" = { dictionary = "hook" } }
warnings = { fail-on = [${SEMANTIC_WARNINGS}], display = [${SEMANTIC_WARNINGS}] }

[[operations]]
include-operation-id = "updateSchedule"
parameters = { id = "${ids.schedule}", "body.workflow" = { dictionary = "workflow" }, "body.version" = { dictionary = "version" }, "body.webhookUrl" = { dictionary = "hook" } }
warnings = { fail-on = [${SEMANTIC_WARNINGS}], display = [${SEMANTIC_WARNINGS}] }

[[operations]]
include-operation-id = "runVersion"
parameters = { name = "${ids.workflow}", v = "${ids.version}", "body.webhookUrl" = { dictionary = "hook" } }
warnings = { fail-on = [${SEMANTIC_WARNINGS}], display = [${SEMANTIC_WARNINGS}] }

[[operations]]
include-operation-id = "compile"
parameters = { "body.notebook" = { dictionary = "notebook" }, "body.notebookPath" = { dictionary = "notebookPath" } }

# Deleting takes schedules seeded to be deleted, so most deletes find one.
[[operations]]
include-operation-id = "deleteSchedule"
parameters = { "path.id" = { dictionary = "doomed" } }

# A foreach task's elements and their logs: in a run of a foreach task, elements it has.
[[operations]]
include-operation-id-regex = "^(taskElements|runLogs)$"
parameters = { id = "${ids.foreachRunId}", task = "double", "query.element" = { dictionary = "element" } }
[[operations]]
include-path-regex = "^/api/v1/runs/\\\\{id\\\\}"
parameters = { id = "${ids.runId}", task = "greet" }

[[operations]]
include-path-regex = "^/api/v1/workflows/\\\\{name\\\\}"
parameters = { name = "${ids.workflow}", a = "1", b = "${ids.version}" }

[[operations]]
include-path-regex = "^/api/v1/schedules/\\\\{id\\\\}"
parameters = { id = "${ids.schedule}" }
`;

const hello = notebookText([
  code('const name = "world";', { role: 'parameters' }),
  code('const message = `hello ${name}`;\nconsole.log(message);', { task: 'greet' })
]);

/** A foreach task of three elements, for the elements route and element logs. */
const sweep = notebookText([code('const ids = [0, 1, 2];', { task: 'make' }), code('const doubled = id * 2;\nconsole.log(`element ${id}`);', { task: 'double', foreach: 'ids', as: 'id' })]);

async function post<T>(s: ServerProcess, pathname: string, body: unknown, schema: { parse(v: unknown): T }): Promise<T> {
  const res = await s.api(pathname, { method: 'POST', json: body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${pathname}: HTTP ${res.status} ${text}`);
  return schema.parse(JSON.parse(text));
}

/**
 * Checks a document against the OpenAPI 3.0 meta-schema schemathesis ships (with the
 * JSON Schema validator it uses); prints one line per violation.
 */
const VALIDATE_OPENAPI = `
import json, sys
import jsonschema_rs
from schemathesis.specs.openapi import definitions
doc = json.load(open(sys.argv[1]))
errors = list(jsonschema_rs.validator_for(definitions.OPENAPI_30).iter_errors(doc))
for e in errors[:20]:
    print("/".join(map(str, e.instance_path)), e.message[:300])
sys.exit(1 if errors else 0)
`;

/** Runs a program of schemathesis' venv to its end; resolves with its exit code and output. */
function runProgram(program: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

let dir: string;

beforeAll(() => {
  dir = tempWorkDir('cellgraph-openapi-');
});

afterAll(async () => {
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('schemathesis finds nothing: every check, every phase, the stateful one included', async () => {
  if (!fs.existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: run "bash scripts/setup.sh" (it installs schemathesis into .venv)`);
  fs.writeFileSync(path.join(dir, 'hello.ipynb'), hello);
  const s = await startServerProcess(dir, { token: TOKEN });
  const run = await post(s, routeUrl(apiRoutes.createRun), { notebook: hello, notebookName: 'hello.ipynb' }, RunDetail);
  await waitFor(async () => {
    const r = RunDetail.parse(await (await s.api(routeUrl(apiRoutes.getRun, { id: run.runId }))).json());
    return r.status === 'succeeded' ? r : undefined;
  }, 60_000, `run ${run.runId}`);
  const foreachRun = await post(s, routeUrl(apiRoutes.createRun), { notebook: sweep, notebookName: 'sweep.ipynb' }, RunDetail);
  await waitFor(async () => {
    const r = RunDetail.parse(await (await s.api(routeUrl(apiRoutes.getRun, { id: foreachRun.runId }))).json());
    return r.status === 'succeeded' ? r : undefined;
  }, 60_000, `run ${foreachRun.runId}`);
  const promoted = await post(s, routeUrl(apiRoutes.promote), { notebook: hello, notebookName: 'hello.ipynb' }, PromoteResponse);
  const schedule = await post(
    s,
    routeUrl(apiRoutes.createSchedule),
    { id: 'nightly', workflow: promoted.version.workflow, version: promoted.version.version, cron: '0 3 * * *', timezone: 'Europe/Berlin' },
    ScheduleView
  );
  const doomed: string[] = [];
  for (let i = 0; i < 40; i++) {
    const body = { id: `doomed-${i}`, workflow: promoted.version.workflow, version: promoted.version.version, cron: '0 3 * * *' };
    doomed.push((await post(s, routeUrl(apiRoutes.createSchedule), body, ScheduleView)).id);
  }
  const config = path.join(dir, 'schemathesis.toml');
  const ids = { runId: run.runId, foreachRunId: foreachRun.runId, workflow: promoted.version.workflow, version: promoted.version.version, schedule: schedule.id, doomed, notebook: hello, hook: 'http://127.0.0.1:9/hook' };
  fs.writeFileSync(config, CONFIG(ids));
  const docFile = path.join(dir, 'openapi.json');
  fs.writeFileSync(docFile, await (await s.api(routeUrl(apiRoutes.openapi))).text());
  const valid = await runProgram(path.join(path.dirname(SCHEMATHESIS), 'python'), ['-c', VALIDATE_OPENAPI, docFile], dir);
  expect({ code: valid.code, output: valid.output }).toEqual({ code: 0, output: '' });
  const { code, output } = await runProgram(
    SCHEMATHESIS,
    [
      '--config-file',
      config,
      'run',
      `${s.url}${apiRoutes.openapi.path}`,
      '--header',
      `Authorization: Bearer ${TOKEN}`,
      '--checks',
      'all',
      '--phases',
      'examples,coverage,fuzzing,stateful',
      '--max-examples',
      process.env.CELLGRAPH_SCHEMATHESIS_EXAMPLES ?? '25',
      '--workers',
      '1',
      '--seed',
      process.env.CELLGRAPH_SCHEMATHESIS_SEED ?? '1',
      '--generation-database',
      'none',
      '--no-color',
      // Every request and answer as a HAR file, to see what a finding was about.
      ...(process.env.CELLGRAPH_SCHEMATHESIS_HAR !== undefined ? ['--report', 'har', '--report-har-path', process.env.CELLGRAPH_SCHEMATHESIS_HAR] : [])
    ],
    dir
  );
  if (code !== 0) throw new Error(`schemathesis reported findings (exit ${code}):\n${output.slice(-30_000)}`);
  expect(output).toMatch(/No issues found|passed/);
  // The server kept serving and logged no internal error on the way.
  expect(s.stderr()).not.toContain('internal error');
});
