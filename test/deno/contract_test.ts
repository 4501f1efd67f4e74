/**
 * The contract suites (test/contract/) against Deno KV, under `deno test`: the same cases
 * that test/contract/durable-objects.test.ts runs against the Durable Objects. Each case
 * gets its own in-memory database; the lease clock is the test's.
 */
import { DenoKvDeviceFlows } from '../../src/platform/deno/device-flows.ts';
import { DenoKvLedger } from '../../src/platform/deno/ledger.ts';
import { describeDeviceFlowContract } from '../contract/device-flow-contract.ts';
import { describeLedgerContract } from '../contract/ledger-contract.ts';
import type { Register } from '../contract/contract.ts';

const register: Register = (name, run) => Deno.test({ name, fn: run });

describeLedgerContract(
  'Deno KV',
  async () => {
    const kv = await Deno.openKv(':memory:');
    let clock = Date.now();
    return {
      ledger: new DenoKvLedger(kv, 'person:contract', {
        clock: () => clock,
        // A waiter looks again at once (in the next turn): the lease clock, not real time, decides.
        sleep: () => new Promise((resolve) => setTimeout(resolve, 1)),
      }),
      passLeaseTime: async (ms) => {
        clock += ms;
      },
      close: () => kv.close(),
    };
  },
  register,
);

describeDeviceFlowContract(
  'Deno KV',
  async () => {
    const kv = await Deno.openKv(':memory:');
    return { store: new DenoKvDeviceFlows(kv, 'device-flow'), close: () => kv.close() };
  },
  register,
);
