/** The Worker's bindings, as wrangler.toml names them (see docs/storage.md). */

/** The Durable Object namespace that holds each person's ledger (class AccountObject). */
export const ACCOUNTS_BINDING = 'ACCOUNTS';
/** The Durable Object namespace that holds device sign-ins in progress and their limits (class DeviceFlowObject). */
export const DEVICE_FLOWS_BINDING = 'DEVICE_FLOWS';
/** The KV namespace that holds sessions' and credentials' records. */
export const KV_BINDING = 'SESSIONS';
