/**
 * What every caller of a grant shares: the handle that opens one (GrantAccess), the two
 * ways a grant can fail a caller, and how long an isolate trusts its memory of a grant.
 */
import type { SealKey } from '../crypto/seal.ts';

/** How long an isolate trusts its memory of a grant before asking the ledger again. */
export const LIVENESS_TTL_MS = 5_000;

/** What a caller holds to use one grant: where it lives and the key that opens it. */
export interface GrantAccess {
  readonly personKey: string;
  readonly grantId: string;
  readonly key: SealKey;
}

/** The grant is over: ended by a sign-out or revocation, expired, or refused by Looker (`invalid_grant`). */
export class GrantEndedError extends Error {
  override readonly name = 'GrantEndedError';
}

/** The grant cannot be used right now (Looker or the ledger is unavailable); it survives. */
export class GrantUnavailableError extends Error {
  override readonly name = 'GrantUnavailableError';
  /** Seconds to wait before retrying, when known. */
  readonly retryAfter: number | undefined;
  /** The Looker status behind it, when there was one. */
  readonly status: number | undefined;
  readonly timedOut: boolean;
  constructor(message: string, options: { retryAfter?: number; status?: number; timedOut?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryAfter = options.retryAfter;
    this.status = options.status;
    this.timedOut = options.timedOut ?? false;
  }
}
