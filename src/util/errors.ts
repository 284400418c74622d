/**
 * An error caused by the user's input (a file, a flag, a checkpoint), not by a bug.
 * The CLI prints its message as one line, without a stack trace, and exits with code 2.
 * Messages name the file (or flag) and say how to fix it.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
