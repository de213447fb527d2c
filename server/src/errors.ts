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

/**
 * The compile pool cannot take a compile now: too many different compiles are waiting
 * (refused at once rather than queued without bound), or the server is stopping.
 */
export class CompileUnavailableError extends Error {
  override name = 'CompileUnavailableError';
}

/**
 * A compile ran past one of the limits that keep it from taking the server with it: its
 * time or its memory. `limit` names which, `setting` where it is configured.
 */
export class CompileLimitError extends Error {
  override name = 'CompileLimitError';
  constructor(
    readonly limit: 'time' | 'memory',
    /** The limit's value, in seconds or MB. */
    readonly value: number,
    /** The setting that configures it (flag / environment variable). */
    readonly setting: string
  ) {
    super(
      limit === 'time'
        ? `the compile ran past its time limit of ${value} s (${setting}) and was stopped; nothing was run`
        : `the compile ran past its memory limit of ${value} MB (${setting}) and was stopped; nothing was run`
    );
  }
}
