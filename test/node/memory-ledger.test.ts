/**
 * The ledger contract (test/contract/ledger-contract.ts) against the in-memory ledger, in
 * Node: the same cases the Durable Object and Deno KV pass.
 */
import { describe, it } from 'vitest';
import { MemoryLedger } from '../../src/grants/memory-ledger.ts';
import { describeLedgerContract } from '../contract/ledger-contract.ts';

describe('the ledger contract', () => {
  describeLedgerContract(
    'in memory',
    () => {
      let clock = Date.now();
      return {
        ledger: new MemoryLedger({ clock: () => clock }),
        passLeaseTime: async (ms) => {
          clock += ms;
        },
      };
    },
    (name, run) => it(name, run),
  );
});
