import type { CompileInput, CompileResult } from '../index';
import type { InputStamp } from '../compile-cache';

/** What the pool sends a compile worker: one notebook to compile. */
export interface CompileJob {
  id: number;
  input: CompileInput;
}

/**
 * What a compile worker sends back. `ready` once, after it loaded the compiler and parsed
 * TypeScript's libraries (so a job's time limit counts only the job); then one answer per
 * job. A success carries the stamps of the files the checker read, taken in the worker so
 * the server's thread does not stat them.
 */
export type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'done'; id: number; result: CompileResult; stamps: InputStamp[] }
  | { kind: 'failed'; id: number; message: string };
