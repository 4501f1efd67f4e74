/**
 * The benchmark's Deno entry (bench/deno-servers/gateway.ts) starts under `deno serve` as
 * `npm run bench -- --runtime deno` starts it, answers SIGUSR2 with its Deno KV counts on
 * stderr, and counts what a request does to KV. Cheap on purpose (one process, a
 * `:memory:` KV, no Looker needed): the benchmark once stopped working without anyone
 * noticing until the next run.
 */
import { parseKvCountsLine, readsAndWrites, type KvCounts } from '../../bench/kv-count.ts';
import { equal, ok } from '../contract/contract.ts';

function freePort(): number {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test('the bench Deno entry starts, and counts Deno KV operations on SIGUSR2', async () => {
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ['serve', '--quiet', '--cached-only', '--no-check', '--no-prompt', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--host', '127.0.0.1', '--port', String(port), 'bench/deno-servers/gateway.ts'],
    env: {
      DENO_KV_PATH: ':memory:',
      DENO_NO_UPDATE_CHECK: '1',
      // Nothing listens on the discard port: this test never reaches Looker.
      LOOKER_URL: 'http://127.0.0.1:9',
      LOOKER_CLIENT_ID: 'bench-smoke',
      SESSION_SECRET: 'bench-smoke-3VXgtFsgnjaNVYR5iEUUBbZRA5IROvzxBcjtdTh3URM',
      GATEWAY_URL: origin,
    },
    stdin: 'null',
    stdout: 'null',
    stderr: 'piped',
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  const nextCounts = async (): Promise<KvCounts> => {
    child.kill('SIGUSR2');
    for (;;) {
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const counts = parseKvCountsLine(line);
        if (counts !== undefined) return counts;
        continue;
      }
      const { done, value } = await lines.read();
      if (done) throw new Error(`the entry closed its stderr before giving its counts (${buffered})`);
      buffered += value;
    }
  };
  try {
    let up = false;
    for (let i = 0; i < 300 && !up; i++) {
      try {
        await (await fetch(`${origin}/healthz`)).body?.cancel();
        up = true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    ok(up, 'the entry answers /healthz');
    const before = await nextCounts();
    equal(readsAndWrites(before).writes, 0, 'nothing written before the first device sign-in');
    // A device sign-in is stored in Deno KV before the answer (src/platform/deno/device-flows.ts).
    const started = await fetch(`${origin}/cli/device/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=smoke' });
    equal(started.status, 200, 'a device code');
    await started.body?.cancel();
    const after = await nextCounts();
    ok(after.commit > before.commit, `the device flow's commit is counted (${JSON.stringify(after)})`);
  } finally {
    await lines.cancel().catch(() => {});
    child.kill('SIGTERM');
    await child.status;
  }
});
