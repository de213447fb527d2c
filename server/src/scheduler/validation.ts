import { ConflictError } from '../errors';

/** A schedule id that is already taken (409 at the HTTP edge, naming `id`). */
export class ScheduleConflictError extends ConflictError {
  constructor(message: string) {
    super(message, 'id');
  }
}
