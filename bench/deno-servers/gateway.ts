/**
 * The benchmark's gateway on Deno: src/platform/deno/server.ts as `deno serve` runs it
 * (the same environment, the same gateway.ts), except that its Deno KV handle counts
 * every operation (../kv-count.ts). The counts leave only through this entry: on SIGUSR2
 * it writes them to stderr as one JSON line. The production entry has no such channel.
 *
 * Type-checked by `deno check` (scripts/test-deno.mjs), not tsc: it runs on Deno.
 */
import { openGateway } from '../../src/platform/deno/gateway.ts';
import { countingKv, kvCountsLine, noKvCounts } from '../kv-count.ts';

const counts = noKvCounts();
Deno.addSignalListener('SIGUSR2', () => console.error(kvCountsLine(counts)));

export default await openGateway(Deno.env.toObject(), { openKv: async (path) => countingKv(await Deno.openKv(path), counts) });
