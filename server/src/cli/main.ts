import { Command, CommanderError } from 'commander';
import { registerBuild } from './commands/build';
import { registerDeploy } from './commands/deploy';
import { registerExport } from './commands/export';
import { registerGraph } from './commands/graph';
import { registerInit } from './commands/init';
import { registerLogs } from './commands/logs';
import { registerOutputs } from './commands/outputs';
import { registerRun } from './commands/run';
import { registerRuns } from './commands/runs';
import { registerSchedules } from './commands/schedules';
import { registerServer } from './commands/server';
import { registerIdentity } from './commands/identity';
import { registerRemoteCommands } from './commands/remote-runs';
import { registerValidate } from './commands/validate';
import { CellgraphError, exitCodeOf } from '../errors';
import { EXIT_USAGE, err } from './output';

/** The `cellgraph` command line. */
export function buildProgram(): Command {
  const program = new Command('cellgraph')
    .description('tagged TypeScript notebooks as typed, cached workflows')
    .version(require('../../package.json').version as string)
    .exitOverride()
    .showHelpAfterError()
    .option('--server <url>', 'talk to a cellgraph server (token in CELLGRAPH_TOKEN) instead of a local home')
    .option('--project <name>', "the server project new runs and promotions go to (default: default)");
  registerInit(program);
  registerValidate(program);
  registerGraph(program);
  registerRun(program);
  registerRuns(program);
  registerLogs(program);
  registerOutputs(program);
  registerBuild(program);
  registerExport(program);
  registerServer(program);
  registerDeploy(program);
  registerRemoteCommands(program);
  registerSchedules(program);
  registerIdentity(program);
  return program;
}

/** Maps errors to exit codes by the one table (ERROR_KINDS): a message for known kinds, the stack for anything else. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
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
