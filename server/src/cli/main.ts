import { Command, CommanderError } from 'commander';
import { CellgraphError, exitCodeOf } from '../errors';
import { EXIT_USAGE, err } from './output';

type Register = (program: Command) => void;

/**
 * Each top-level command and the module that registers it, in help order. A command line
 * loads only its own command's module (and what that imports): `validate` never loads the
 * Kubernetes client, the HTTP server or SQLite. Several commands share a module.
 */
const COMMANDS: [name: string, load: () => Promise<Register>][] = [
  ['init', async () => (await import('./commands/init')).registerInit],
  ['validate', async () => (await import('./commands/validate')).registerValidate],
  ['graph', async () => (await import('./commands/graph')).registerGraph],
  ['run', async () => (await import('./commands/run')).registerRun],
  ['runs', async () => (await import('./commands/runs')).registerRuns],
  ['logs', async () => (await import('./commands/logs')).registerLogs],
  ['outputs', async () => (await import('./commands/outputs')).registerOutputs],
  ['build', async () => (await import('./commands/build')).registerBuild],
  ['export', async () => (await import('./commands/export')).registerExport],
  ['server', async () => (await import('./commands/server')).registerServer],
  ['deploy', async () => (await import('./commands/deploy')).registerDeploy],
  ...(['cancel', 'retry', 'types', 'promote', 'versions'] as const).map((name): [string, () => Promise<Register>] => [
    name,
    async () => (await import('./commands/remote-runs')).registerRemoteCommands
  ]),
  ['schedules', async () => (await import('./commands/schedules')).registerSchedules],
  ...(['whoami', 'token', 'project', 'member', 'audit', 'secret'] as const).map((name): [string, () => Promise<Register>] => [
    name,
    async () => (await import('./commands/identity')).registerIdentity
  ]),
  ['daemon', async () => (await import('./commands/daemon')).registerDaemon]
];

/** The command a command line names: its first word that is neither an option nor the value of --server or --project. */
export function commandName(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--server' || a === '--project') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * The `cellgraph` command line. With `only`, a known command name, just that command is
 * registered (a command line needs no other); otherwise all are (help, unknown commands).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('cellgraph')
    .description('tagged TypeScript notebooks as typed, cached workflows')
    .version(require('../../package.json').version as string)
    .exitOverride()
    .showHelpAfterError()
    .option('--server <url>', 'talk to a cellgraph server (token in CELLGRAPH_TOKEN) instead of a local home')
    .option('--project <name>', "the server project new runs and promotions go to (default: default)");
  const wanted = COMMANDS.some(([name]) => name === only) ? COMMANDS.filter(([name]) => name === only) : COMMANDS;
  const registered = new Set<Register>();
  for (const [, load] of wanted) {
    const register = await load();
    if (registered.has(register)) continue;
    registered.add(register);
    register(program);
  }
  return program;
}

/** Maps errors to exit codes by the one table (ERROR_KINDS): a message for known kinds, the stack for anything else. */
export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(commandName(argv))).parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    const error = e instanceof Error ? e : new Error(String(e));
    err(`cellgraph: ${e instanceof CellgraphError ? error.message : (error.stack ?? error.message)}`);
    process.exitCode = exitCodeOf(e);
  }
}

if (require.main === module) void main(process.argv);
