import type { Dialect } from './migrations';

/**
 * The few calls shared SQL needs from a database, with `?` placeholders in both dialects
 * (the PostgreSQL runner numbers them). Code written against it runs unchanged on SQLite
 * and PostgreSQL.
 */
export interface SqlRunner {
  readonly dialect: Dialect;
  /** Rows of a query (or of a statement with RETURNING). */
  all(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * Runs `fn` in one transaction on one connection (PostgreSQL: row locks taken inside hold
   * until it ends). On SQLite, one process owns the file and each statement is atomic, so
   * `fn` simply runs.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (no statement here has a literal `?`). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
