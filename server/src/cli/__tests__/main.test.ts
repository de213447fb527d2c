/** The CLI loads only the module of the command it runs, and every command stays reachable. */
import { buildProgram, commandName } from '../main';

const argv = (...args: string[]) => ['node', 'cellgraph', ...args];

it('finds the command after global options, skipping the value of --server', () => {
  expect(commandName(argv('validate', 'nb.ipynb'))).toBe('validate');
  expect(commandName(argv('--server', 'http://127.0.0.1:1', 'runs', '--json'))).toBe('runs');
  expect(commandName(argv('--server=http://127.0.0.1:1', 'cancel', 'r1'))).toBe('cancel');
  expect(commandName(argv('--help'))).toBeUndefined();
});

it('registers one command when one is named, every command otherwise (help, unknown names)', async () => {
  const all = (await buildProgram()).commands.map((c) => c.name());
  expect(all).toEqual(expect.arrayContaining(['init', 'validate', 'run', 'build', 'server', 'schedules', 'cancel', 'versions']));
  expect((await buildProgram('nonsense')).commands.map((c) => c.name())).toEqual(all);
  for (const name of all) expect((await buildProgram(name)).commands.map((c) => c.name())).toContain(name);
  expect((await buildProgram('validate')).commands.map((c) => c.name())).toEqual(['validate']);
});
