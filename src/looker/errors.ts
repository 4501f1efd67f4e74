/**
 * What can go wrong when talking to Looker, as types a route can branch on.
 * Messages are safe to show: they never contain tokens, codes or Looker's raw body.
 */

/** Looker could not be reached, or answered with a server error (5xx). */
export class LookerUnavailableError extends Error {
  override readonly name = 'LookerUnavailableError';
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** Looker did not answer within the allowed time. */
export class LookerTimeoutError extends Error {
  override readonly name = 'LookerTimeoutError';
}

/** Looker answered 200 with something that is not what the protocol promises. */
export class LookerProtocolError extends Error {
  override readonly name = 'LookerProtocolError';
}

/**
 * Looker refused the request (4xx). `code` is the OAuth `error` when Looker sent
 * one (e.g. `invalid_grant`), or undefined for Looker-style or HTML error bodies.
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
