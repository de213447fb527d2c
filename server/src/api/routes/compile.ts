import { apiRoutes } from '@cellgraph/schema';
import { compileNotebook } from '../../compiler';
import type { ApiContext } from '../context';
import { readSubmittedNotebook } from '../notebook-source';
import { jsonRoute, type ApiRoute } from '../route';

/** Compiling without running: the typed DAG and diagnostics of a notebook being edited. */
export function compileRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    jsonRoute(apiRoutes.compile, async ({ body }) => {
      const nb = readSubmittedNotebook(body, ctx.config.workDir);
      // Not the compile cache: its entries point at published IRs, and an editor's every
      // pause must not write to the store.
      const result = compileNotebook({ path: nb.path, text: nb.text });
      return result.ok ? { ok: true, ir: result.ir, diagnostics: result.warnings } : { ok: false, diagnostics: result.diagnostics };
    })
  ];
}
