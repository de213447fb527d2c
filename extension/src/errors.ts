/** The errors a call to the cellgraph server ends with (no JupyterLab imports: models and tests use them too). */

/** The cellgraph server could not be reached at all (not running, proxy down). */
export class ServerDownError extends Error {
  override readonly name = 'ServerDownError';
  constructor(readonly url: string, cause: string) {
    super(`the cellgraph server at ${url} is not reachable (${cause})`);
  }
}

/** The server answered with an error (`{error: {code, message, field?}}`). */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}
