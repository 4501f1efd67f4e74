/**
 * What can go wrong when talking to Looker, as types a route can branch on.
 * Messages are safe to show: they never contain tokens, codes or Looker's raw body.
 */

/** Looker could not be reached, or answered that it cannot serve now (5xx, 429, 408). */
export class LookerUnavailableError extends Error {
  override readonly name = 'LookerUnavailableError';
  readonly status: number | undefined;
  /** Seconds Looker asked us to wait (its Retry-After), when it said. */
  readonly retryAfter: number | undefined;
  constructor(message: string, options: { status?: number; retryAfter?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }
}

/** Looker did not answer within the allowed time. */
export class LookerTimeoutError extends Error {
  override readonly name = 'LookerTimeoutError';
}

/** Looker answered with something that is not what the protocol promises (a 200 that is not JSON, a redirect). */
export class LookerProtocolError extends Error {
  override readonly name = 'LookerProtocolError';
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/**
 * Looker refused the request (4xx other than 408/429). `code` is the OAuth `error` when
 * Looker sent one as JSON (e.g. `invalid_grant`), or undefined for Looker-style or HTML bodies.
 */
export class LookerRejectedError extends Error {
  override readonly name = 'LookerRejectedError';
  readonly status: number;
  readonly code: string | undefined;
  constructor(message: string, status: number, code: string | undefined) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export type LookerError = LookerUnavailableError | LookerTimeoutError | LookerProtocolError | LookerRejectedError;

export function isLookerError(error: unknown): error is LookerError {
  return (
    error instanceof LookerUnavailableError ||
    error instanceof LookerTimeoutError ||
    error instanceof LookerProtocolError ||
    error instanceof LookerRejectedError
  );
}
