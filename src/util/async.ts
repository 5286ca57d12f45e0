/**
 * The one home of small promise helpers: every module that waits or bounds a wait imports
 * them from here instead of keeping its own copy.
 */

/** Resolves after `ms` milliseconds (negative waits resolve at once). */
export function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** The error a bounded wait rejects with; `instanceof` tells a timeout from the promise's own failure. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * Rejects with a {@link TimeoutError} ("<what> timed out after <ms> ms") when `promise` has not
 * settled within `ms`; the timer never keeps the process alive after the promise settles.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
