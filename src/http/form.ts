/**
 * Small form bodies, read with a limit: every form the gateway accepts (sign-in answers,
 * the command line's calls, the SDK login) is a few hundred bytes, and a body is never
 * read past FORM_LIMIT_BYTES, whatever it claims to be, so a flood of large bodies
 * cannot fill an isolate's memory.
 */

export const FORM_LIMIT_BYTES = 16 * 1024;

export type FormResult = { ok: true; form: URLSearchParams; empty: boolean } | { ok: false; problem: 'too large' | 'not a form' };

/**
 * The form in `request`'s body: `application/x-www-form-urlencoded` (and the `types`
 * given), at most FORM_LIMIT_BYTES. An absent or empty body is an empty form.
 */
export async function readForm(request: Request, types: ReadonlySet<string> = FORM_TYPE): Promise<FormResult> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > FORM_LIMIT_BYTES) {
    await request.body?.cancel().catch(() => {});
    return { ok: false, problem: 'too large' };
  }
  if (request.body === null) return { ok: true, form: new URLSearchParams(), empty: true };
  const bytes = await readAtMost(request.body, FORM_LIMIT_BYTES);
  if (bytes === null) return { ok: false, problem: 'too large' };
  if (bytes.byteLength === 0) return { ok: true, form: new URLSearchParams(), empty: true };
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!types.has(type)) return { ok: false, problem: 'not a form' };
  return { ok: true, form: new URLSearchParams(new TextDecoder().decode(bytes)), empty: false };
}

const FORM_TYPE: ReadonlySet<string> = new Set(['application/x-www-form-urlencoded']);

/** The stream's bytes, or null as soon as there are more than `limit` (the rest is not read). */
export async function readAtMost(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
