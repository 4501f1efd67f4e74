/**
 * What the contract suites need from a test runner, and nothing more, so that one suite
 * runs under vitest in the Workers runtime (the Durable Objects) and under `deno test`
 * (Deno KV): a way to register a case, and assertions that throw.
 */

/** Registers one case (vitest's `it`, or Deno.test under a prefix). */
export type Register = (name: string, run: () => Promise<void>) => void;

export class ContractFailure extends Error {
  override readonly name = 'ContractFailure';
}

/** Deep equality by JSON (the stores' values are plain data). */
export function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(sorted(actual));
  const e = JSON.stringify(sorted(expected));
  if (a !== e) throw new ContractFailure(`${what}:\n  expected ${e}\n  got      ${a}`);
}

export function ok(condition: boolean, what: string): void {
  if (!condition) throw new ContractFailure(what);
}

/** Object keys in order, so that two equal values print the same. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sorted(v)]),
    );
  }
  return value;
}

/** Whether a promise is still waiting after everything already queued has run (a few turns of the event loop). */
export async function stillWaiting(promise: Promise<unknown>, turns = 20): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  return !settled;
}

/** The promise's value, or a failure naming `what` if it has not settled within `ms` (a bound on waiting, not a measurement). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ContractFailure(`${what}: still waiting after ${ms} ms`)), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
