/**
 * Typed domain errors. Each sets `name` so callers (CLI, HTTP API) can map them to exit
 * codes and status codes without string matching on messages.
 */

/** A request names something that does not exist: a run, a task, a stored file. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** Input that cellgraph refuses: a bad parameter, an unsafe key, a malformed document. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  /** The field at fault, e.g. `params.learningRate`. */
  readonly field?: string;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** Stored bytes do not match the content hash they are filed under. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

/** The durable state could not be read or written (locked database, full disk, ...). */
export class StateError extends Error {
  override name = 'StateError';
}
