/**
 * Results back in the notebook, on real components: a real `cellgraph server` process runs
 * a small notebook; @cellgraph/kernel's runs client (the one a tslab cell imports) finds
 * its latest run and reads its outputs back, decoded with their codecs (an object with a
 * Date and a Map, a number); the declarations the server generates for the workflow type
 * them, checked with TypeScript 5.0 (tslab's) against the built @cellgraph/kernel: right
 * names and types compile, a wrong output or task name does not. The server is stopped by PID.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { connect } from '@cellgraph/kernel';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { CLI, ServerProcess, runToEnd, startServerProcess, stopAllServers, tempWorkDir } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

const TOKEN = 'runs-client-token-0123456789abcdef';

const notebook = notebookText([
  code('interface Summary {\n  mean: number;\n  labels: string[];\n  at: Date;\n  counts: Map<string, number>;\n}', { role: 'setup' }),
  code('const n = 4;', { role: 'parameters' }),
  code('const values: number[] = Array.from({ length: n }, (_, i) => i + 1);', { task: 'load' }),
  code(
    'const summary: Summary = {\n  mean: values.reduce((a, b) => a + b, 0) / values.length,\n  labels: values.map((v) => `v${v}`),\n  at: new Date("2026-12-05T10:00:00.000Z"),\n  counts: new Map([["even", values.filter((v) => v % 2 === 0).length]])\n};\nconst count: number = values.length;',
    { task: 'stats' }
  )
]);

afterAll(stopAllServers);

describe('the runs client against a real server', () => {
  let dir: string;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-runs-client-');
    s = await startServerProcess(dir, { token: TOKEN });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the latest run’s outputs back, decoded, and types them from generated declarations', async () => {
    for (const n of [3, 4]) expect((await runToEnd(s, { notebook: JSON.parse(notebook), notebookName: 'stats.ipynb', params: { n } })).status).toBe('succeeded');

    const runs = connect({ url: s.url, token: TOKEN });
    const run = await runs.latest('stats');
    expect(run).toMatchObject({ workflow: 'stats', status: 'succeeded', params: { n: 4 } });
    const stats = run.task('stats');
    expect(await stats.output('summary')).toEqual({
      mean: 2.5,
      labels: ['v1', 'v2', 'v3', 'v4'],
      at: new Date('2026-12-05T10:00:00.000Z'),
      counts: new Map([['even', 2]])
    });
    expect(await stats.output('count')).toBe(4);
    expect(await run.task('load').output('values')).toEqual([1, 2, 3, 4]);
    expect((await runs.list('stats')).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    await expect(connect({ url: s.url, token: 'wrong' }).latest('stats')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(runs.latest('nothing')).rejects.toThrow('workflow "nothing" has no runs');

    // Declarations of the workflow's outputs, written beside a notebook, type the client.
    const file = await runs.types('stats', path.join(dir, 'cellgraph-types', 'stats.d.ts'));
    const declarations = fs.readFileSync(file, 'utf8');
    expect(declarations).toContain('interface Summary');
    expect(declarations).toContain('"stats": { "summary": Summary; "count": number; };');
    // The CLI's remote mode prints the same file.
    const cli = spawnSync(process.execPath, [CLI, '--server', s.url, 'types', 'stats'], { encoding: 'utf8', env: { ...process.env, CELLGRAPH_TOKEN: TOKEN } });
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: '' });
    expect(cli.stdout).toBe(declarations);
    fs.writeFileSync(
      path.join(dir, 'explore.ts'),
      [
        'import type * as statsTypes from "./cellgraph-types/stats";',
        'import { runs } from "@cellgraph/kernel";',
        'export async function explore(): Promise<number> {',
        '  const run = await runs.latest("stats");',
        '  const summary = await run.task("stats").output("summary");',
        '  const at: Date = summary.at;',
        '  const even: number | undefined = summary.counts.get("even");',
        '  const count: number = await run.task("stats").output("count");',
        '  const values: number[] = await run.task("load").output("values");',
        '  // @ts-expect-error: stats has no output "model"',
        '  await run.task("stats").output("model");',
        '  // @ts-expect-error: the workflow has no task "train"',
        '  run.task("train");',
        '  // @ts-expect-error: summary.mean is a number',
        '  const wrong: string = summary.mean;',
        '  return at.getTime() + (even ?? 0) + count + values.length + wrong.length;',
        '}'
      ].join('\n')
    );
    // The checks of the notebook's own code (a library's .d.ts is not ours to check, as with skipLibCheck).
    const check = () => {
      const explore = path.join(dir, 'explore.ts');
      const program = ts.createProgram([explore], {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.NodeJs,
        types: ['node'],
        typeRoots: [path.join(dir, 'node_modules', '@types')]
      });
      const source = program.getSourceFile(explore);
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    };
    expect(check()).toEqual([]);
    // Without the declarations the names are any strings and the values unknown: the expect-errors are unused, the rest fails.
    fs.rmSync(file);
    expect(check()).toEqual(expect.arrayContaining(["Unused '@ts-expect-error' directive.", "Type 'unknown' is not assignable to type 'number'."]));
  });
});
