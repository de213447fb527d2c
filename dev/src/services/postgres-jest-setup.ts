import { prepareSharedPostgres } from './postgres';

/** jest globalSetup: one PostgreSQL cluster per test run, started by the first test that needs it. */
export default function setup(): void {
  prepareSharedPostgres();
}
