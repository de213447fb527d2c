/**
 * Node's built-in SQLite (node:sqlite) behind the part of better-sqlite3's API the state
 * store uses, so the bench can run the store's own code, statement for statement, on
 * either driver. Only for measuring: the store ships with one driver.
 */
import Module from 'node:module';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';

/** SQLite's primary result codes by number, as better-sqlite3 names them in `err.code`. */
const PRIMARY_CODES: Record<number, string> = { 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 8: 'SQLITE_READONLY', 13: 'SQLITE_FULL' };

/** Re-labels a node:sqlite error with better-sqlite3's `code`, which the store maps to StateError. */
function relabel(err: unknown): unknown {
  const e = err as { errcode?: unknown; code?: unknown };
  if (typeof e?.errcode === 'number') {
    const name = PRIMARY_CODES[e.errcode & 0xff];
    if (name !== undefined) e.code = name;
  }
  return err;
}

type Params = unknown[];

function bind(args: Params): SQLInputValue[] {
  return args as SQLInputValue[];
}

class Statement {
  constructor(private readonly stmt: StatementSync) {}
  run(...args: Params): { changes: number | bigint; lastInsertRowid: number | bigint } {
    try {
      return this.stmt.run(...bind(args));
    } catch (err) {
      throw relabel(err);
    }
  }
  get(...args: Params): unknown {
    try {
      return this.stmt.get(...bind(args));
    } catch (err) {
      throw relabel(err);
    }
  }
  all(...args: Params): unknown[] {
    try {
      return this.stmt.all(...bind(args));
    } catch (err) {
      throw relabel(err);
    }
  }
}

/** A better-sqlite3 `Database` look-alike over DatabaseSync. */
export class NodeSqliteDatabase {
  private readonly db: DatabaseSync;

  constructor(file: string, options: { timeout?: number } = {}) {
    this.db = new DatabaseSync(file, { timeout: options.timeout ?? 5000 });
  }

  get open(): boolean {
    return this.db.isOpen;
  }

  pragma(text: string): unknown {
    return this.db.prepare(`PRAGMA ${text}`).all();
  }

  exec(sql: string): this {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw relabel(err);
    }
    return this;
  }

  prepare(sql: string): Statement {
    return new Statement(this.db.prepare(sql));
  }

  /** better-sqlite3's transaction(): a deferred BEGIN, COMMIT, and ROLLBACK when `fn` throws. */
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return (...args: A) => {
      this.exec('BEGIN');
      try {
        const result = fn(...args);
        this.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    };
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Makes `require('better-sqlite3')` from the server package return NodeSqliteDatabase.
 * Must run before the state store's module is first loaded.
 */
export function substituteBetterSqlite3(): void {
  const serverDir = require.resolve('@cellgraph/server/package.json');
  const resolved = require.resolve('better-sqlite3', { paths: [serverDir] });
  const substitute = new Module(resolved);
  substitute.filename = resolved;
  substitute.loaded = true;
  substitute.exports = NodeSqliteDatabase;
  require.cache[resolved] = substitute;
}
