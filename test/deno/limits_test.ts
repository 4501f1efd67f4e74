/**
 * Deno KV's limits with keys as long as the gateway's (hashes: a label and 64 hex digits):
 * at most 10 keys per getMany, 1,000 mutations and 80 KiB of keys per commit. Many tokens
 * ending with their grant, many expired tokens, and hundreds of sign-ins and counters
 * expiring together must each stay within them.
 */
import { DenoKvDeviceFlows } from '../../src/platform/deno/device-flows.ts';
import { DenoKvLedger } from '../../src/platform/deno/ledger.ts';
import { equal } from '../contract/contract.ts';

const hex = (label: string, n: number) => `${label}:${n.toString(16).padStart(64, '0')}`;
const T0 = Date.UTC(2026, 10, 28, 12);
const HOUR = 3600_000;

Deno.test('a grant with hundreds of tokens, live and expired, ends and is cleaned up within the limits', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const ledger = new DenoKvLedger(kv, hex('person', 1));
    const grantId = 'A'.repeat(22);
    await ledger.createGrant({ grantId, kind: 'credential', label: 'ci', createdAt: T0, lastUsedAt: 0, expiresAt: T0 + 90 * 24 * HOUR, version: 1, sealed: 's', revocation: 'r', kvKeys: [hex('credential', 1)] });
    for (let i = 0; i < 400; i++) equal((await ledger.mintToken(hex('access-token', i), { grantId, issuedAt: T0 + i, expiresAt: T0 + i + 1000, sealed: 'p' }, T0 + i)).ok, true, `short-lived ${i}`);
    const later = T0 + HOUR;
    for (let i = 0; i < 60; i++) equal((await ledger.mintToken(hex('access-token', 1000 + i), { grantId, issuedAt: later + i, expiresAt: later + HOUR, sealed: 'p' }, later + i)).ok, true, `live ${i}`);
    equal((await ledger.checkToken(hex('access-token', 1009), 1, later + 100)).alive, false, 'the cap ended the oldest');
    equal((await ledger.checkToken(hex('access-token', 1010), 1, later + 100)).alive, true, 'the 50 newest live');
    equal((await ledger.end({ all: true })).length, 1, 'ended');
    let left = 0;
    for await (const _ of kv.list({ prefix: ['ledger', hex('person', 1), 'grant-token'] })) left++;
    equal(left, 0, 'its tokens are gone');
  } finally {
    kv.close();
  }
});

Deno.test('hundreds of sign-ins and counters with the gateway’s key lengths expire together and are swept within the limits', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const store = new DenoKvDeviceFlows(kv, 'device-flow');
    const limits = { perNetwork: 10, total: 5000, wrongCodesPerNetwork: 20, wrongCodesPerGroup: 100, wrongCodesWindowMs: 600_000, wrongCodeNetworks: 10_000 };
    for (let i = 0; i < 400; i++) {
      const started = await store.start(
        { deviceKey: hex('device', i), userCodeKey: hex('user-code', i), name: 'n'.repeat(64), scope: 'write' as const, network: hex('network', i), group: hex('group', i % 50), requester: { address: 'a'.repeat(39) }, interval: 5, startedAt: T0, expiresAt: T0 + 600_000 },
        limits,
      );
      equal(started.ok, true, `start ${i}`);
      await store.enter(hex('user-code', 100_000 + i), { network: hex('network', 100_000 + i), group: hex('group', 100_000 + i) }, T0, limits);
    }
    const after = T0 + 600_001;
    equal(await store.enter(null, { network: hex('network', 1), group: hex('group', 1) }, after, limits), { status: 'unknown' }, 'swept, then counted');
    equal((await store.start({ deviceKey: hex('device', 9999), userCodeKey: hex('user-code', 9999), name: 'n', scope: 'write' as const, network: hex('network', 1), group: hex('group', 1), requester: { address: 'a' }, interval: 5, startedAt: after, expiresAt: after + 600_000 }, { ...limits, total: 1 })).ok, true, 'the room is empty again');
  } finally {
    kv.close();
  }
});
