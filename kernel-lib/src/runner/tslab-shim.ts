import { display, newDisplay } from '../display';

/**
 * What `require("tslab")` returns inside a task: the display API (recorded into the
 * executed notebook) without loading tslab, whose import pulls in TypeScript.
 */
export const TSLAB_SHIM = Object.freeze({
  display,
  newDisplay,
  versions: { tslab: '1.0.22', typescript: '5.0.4', node: process.version }
});
