/**
 * Request bodies for the proxy: streamed by default; a small one (≤ limit) is held in
 * memory so the request can be sent again after a token refresh. When the length is not
 * declared, up to `limit` bytes are read to find out, and a larger body continues as a
 * stream that starts with what was read — memory stays bounded either way.
 */

export type ProxyBody =
  | { replayable: true; body: ArrayBuffer | null }
  | { replayable: false; body: ReadableStream<Uint8Array> };

/** `method` and `contentLength` as the caller already read them (each read is a call into the runtime). */
const NO_BODY: ProxyBody = { replayable: true, body: null };

export async function prepareRequestBody(request: Request, method: string, contentLength: string | undefined, limit: number): Promise<ProxyBody> {
  if (method === 'GET' || method === 'HEAD') return NO_BODY;
  const stream = request.body;
  if (stream === null) return NO_BODY;
  const declared = Number(contentLength ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return { replayable: false, body: stream };
  if (Number.isFinite(declared)) return { replayable: true, body: await request.arrayBuffer() };

  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { replayable: true, body: concat(head, size) };
    head.push(value);
    size += value.byteLength;
    if (size > limit) break;
  }
  // Hand the rest over to the runtime: write what was read, then pipe the remainder
  // natively (workerd's IdentityTransformStream keeps the bytes out of the JS heap).
  reader.releaseLock();
  const { readable, writable } = createPassThrough();
  void (async () => {
    const writer = writable.getWriter();
    try {
      for (const chunk of head) await writer.write(chunk);
      writer.releaseLock();
      await stream.pipeTo(writable);
    } catch (error) {
      await writable.abort(error).catch(() => {});
    }
  })();
  return { replayable: false, body: readable };
}

function createPassThrough(): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
  const Native = (globalThis as { IdentityTransformStream?: new () => TransformStream<Uint8Array, Uint8Array> })
    .IdentityTransformStream;
  return Native === undefined ? new TransformStream<Uint8Array, Uint8Array>() : new Native();
}

function concat(chunks: Uint8Array[], size: number): ArrayBuffer {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}
