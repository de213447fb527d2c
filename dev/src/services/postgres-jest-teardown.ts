import { stopSharedPostgres } from './postgres';

/** jest globalTeardown: stops the run's PostgreSQL cluster (by PID) if a test started it. */
export default function teardown(): Promise<void> {
  return stopSharedPostgres();
}
