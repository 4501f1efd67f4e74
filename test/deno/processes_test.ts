/**
 * Two processes on one local Deno KV file (two `deno serve` of the gateway sharing
 * DENO_KV_PATH). SQLite lets one process write at a time, and a commit with checks that
 * finds the file being written by the other process fails at once with "database is
 * locked", having written nothing. The stores must take that as what it is, a conflict
 * (read again and decide again), not as a storage outage answered with 503.
 */
import { DenoKvDeviceFlows } from '../../src/platform/deno/device-flows.ts';
import { DenoKvLedger } from '../../src/platform/deno/ledger.ts';
import { equal, ok } from '../contract/contract.ts';

/** Another process writing to the same file, with checks, as fast as it can until `stop`. */
async function otherProcessWriting(path: string) {
  const script = `
    const kv = await Deno.openKv(${JSON.stringify(path)});
    await kv.set(['other', 'ready'], true);
    for (;;) {
      const stop = await kv.get(['other', 'stop']);
      if (stop.value !== null) break;
      try { await kv.atomic().check(stop).sum(['other', 'writes'], 1n).commit(); } catch { /* locked by the test: again */ }
      await new Promise((r) => setTimeout(r, 1));
    }
    kv.close();
  `;
  const child = new Deno.Command(Deno.execPath(), { args: ['eval', '--unstable-kv', '--no-config', script], stdout: 'null', stderr: 'inherit' }).spawn();
  const kv = await Deno.openKv(path);
  for (let i = 0; i < 300 && (await kv.get(['other', 'ready'])).value === null; i++) await new Promise((r) => setTimeout(r, 50));
  ok((await kv.get(['other', 'ready'])).value === true, 'the other process is writing');
  return {
    kv,
    async stop() {
      await kv.set(['other', 'stop'], true);
      await child.status;
    },
  };
}

const T0 = Date.UTC(2026, 10, 28, 12);
const MINUTE = 60_000;

Deno.test('two processes on one KV file: ledger and device-flow calls are not failed by the other process writing', async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const other = await otherProcessWriting(path);
  try {
    let now = T0;
    // Leases are judged by the same clock: a lease left behind by a failed call has expired a minute later.
    const ledger = new DenoKvLedger(other.kv, 'person:p', { clock: () => now });
    const grantId = 'g'.repeat(22);
    await ledger.createGrant({ grantId, kind: 'credential', label: 'ci', createdAt: T0, lastUsedAt: 0, expiresAt: T0 + 1000 * MINUTE, version: 1, sealed: 's1', revocation: 'r1', kvKeys: [] });
    const failures: string[] = [];
    const note = (what: string) => (error: unknown) => void failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    for (let i = 1; i <= 40; i++) {
      now = T0 + i * MINUTE + 1;
      // Each one writes with checks: touching the grant (a minute later), minting a token, storing a refresh.
      await ledger.check(grantId, i, now, true).catch(note('check'));
      await ledger.mintToken(`t${i}`, { grantId, issuedAt: now, expiresAt: now + MINUTE, sealed: 'p' }, now).catch(note('mintToken'));
      const ticket = await ledger.beginRefresh(grantId, i, now).catch(note('beginRefresh'));
      if (ticket !== undefined && 'lease' in ticket) {
        await ledger.completeRefresh(grantId, ticket.lease, { version: i + 1, sealed: `s${i + 1}`, revocation: 'r', expiresAt: T0 + 1000 * MINUTE }, now).catch(note('completeRefresh'));
      }
    }
    const flows = new DenoKvDeviceFlows(other.kv, 'device-flow');
    const limits = { perNetwork: 10, total: 5000, wrongCodesPerNetwork: 1000, wrongCodesPerGroup: 1000, wrongCodesWindowMs: 600_000, wrongCodeNetworks: 10_000 };
    for (let i = 0; i < 40; i++) await flows.enter(`code-${i}`, { network: `n${i % 7}`, group: 'g' }, T0, limits).catch(note('enter'));
    equal(failures.length, 0, `nothing failed (${failures.length} did, e.g. ${failures.slice(0, 3).join('; ')})`);
    equal((await ledger.check(grantId, 0, T0 + 41 * MINUTE, false)).alive, true, 'the grant is alive');
    ok(((await other.kv.get<Deno.KvU64>(['other', 'writes'])).value?.value ?? 0n) > 0n, 'the other process did write meanwhile');
  } finally {
    await other.stop();
    other.kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
