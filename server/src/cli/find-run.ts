import type { RunRecord } from '@cellgraph/schema';
import { NotFoundError, ValidationError } from '../errors';
import { RunId } from '@cellgraph/schema';
import { type HomeSession, openHome } from '../runtime';
import { candidateHomes } from './homes';

/** Opens the home that holds a run; the caller closes the session. */
export async function findRun(runId: string, explicitHome: string | undefined): Promise<{ session: HomeSession; run: RunRecord }> {
  if (!RunId.safeParse(runId).success) throw new ValidationError(`not a run id: ${JSON.stringify(runId)}`, 'run');
  const homes = candidateHomes(explicitHome);
  for (const home of homes) {
    const session = await openHome(home);
    try {
      return { session, run: await session.state.getRun(runId) };
    } catch (e) {
      await session.close();
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  throw new NotFoundError(`run ${runId} not found in ${homes.length > 0 ? homes.join(', ') : 'any cellgraph home (pass --home)'}`);
}
