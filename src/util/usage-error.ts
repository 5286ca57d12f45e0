/**
 * A command used wrongly (a bad flag, an out-of-range value, a missing file): the CLI prints
 * its message on one line, without a stack. Flow packages' own commands throw it too.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
