import { apiRoutes } from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { readSubmittedNotebook } from '../notebook-source';
import { jsonRoute, type ApiRoute } from '../route';

/** Compiling without running: the typed DAG and diagnostics of a notebook being edited. */
export function compileRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    jsonRoute(apiRoutes.compile, async ({ body }) => {
      const nb = readSubmittedNotebook(body, ctx.config.workDir);
      // Not the store's compile cache: its entries point at published IRs, and an editor's
      // every pause must not write to the store. The pool's in-memory cache writes nothing.
      const result = await ctx.compiles.compile(nb);
      return result.ok ? { ok: true, ir: result.ir, diagnostics: result.warnings } : { ok: false, diagnostics: result.diagnostics };
    })
  ];
}
