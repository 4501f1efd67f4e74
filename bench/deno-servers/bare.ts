/**
 * The platform floor on Deno: a pass-through server that holds a Looker token itself and
 * forwards each request to UPSTREAM (the simulator), no sign-in, no policy, no log line.
 * The Deno counterpart of the bare Worker in ../workers.ts, run by `deno serve` with the
 * same flags as the gateway.
 *
 * Type-checked by `deno check` (scripts/test-deno.mjs), not tsc: it runs on Deno.
 */
const upstream = Deno.env.get('UPSTREAM') ?? '';
const authorization = `Bearer ${Deno.env.get('TOKEN') ?? ''}`;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const answer = await fetch(upstream + url.pathname + url.search, {
      method: request.method,
      headers: { authorization, accept: request.headers.get('accept') ?? '*/*' },
      body: request.body,
      redirect: 'manual',
    });
    return new Response(answer.body, answer);
  },
} satisfies Deno.ServeDefaultExport;
