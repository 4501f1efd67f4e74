/**
 * Device sign-ins in progress, as one Durable Object for the gateway (see
 * src/callers/device-store.ts for what it promises). Each method runs as one synchronous
 * SQLite transaction with no await inside, so no other request is interleaved: a limit is
 * checked and counted in the same step that acts on it, and a burst of parallel requests
 * is judged exactly as the same requests one after another.
 *
 * Bounded: at most `limits.total` waiting sign-ins (the busiest network's oldest is
 * dropped to make room, so a flood from a few networks cannot lock everyone else out),
 * at most `limits.wrongCodeNetworks` wrong-code counters. Expired rows are deleted on the
 * way, and by an alarm while anything is stored.
 */
import { DurableObject } from 'cloudflare:workers';
import type {
  DeviceAnswer,
  DeviceEntry,
  DeviceFlowStore,
  DeviceLimits,
  DevicePollState,
  DeviceStart,
  NewDevice,
  Requester,
} from '../../callers/device-store.ts';
import { SLOW_DOWN_STEP_SECONDS } from '../../callers/device-store.ts';

/** How often expired rows are swept while anything is stored. */
const SWEEP_INTERVAL_MS = 15 * 60_000;

interface DeviceRow extends Record<string, SqlStorageValue> {
  device_key: string;
  user_code: string;
  name: string;
  /** NULL in a row stored before scopes (it asked for everything). */
  scope: string | null;
  requester: string;
  started_at: number;
  expires_at: number;
  status: string;
  interval_s: number;
  last_polled_at: number;
  person_key: string | null;
  waiting: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  device_key TEXT PRIMARY KEY,
  user_code TEXT NOT NULL UNIQUE, -- its hash
  network TEXT NOT NULL,
  grp TEXT NOT NULL,
  name TEXT NOT NULL,
  requester TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  interval_s INTEGER NOT NULL,
  last_polled_at INTEGER NOT NULL,
  person_key TEXT,
  waiting TEXT,
  scope TEXT -- 'read' or 'write'; NULL in rows from before scopes
);
CREATE INDEX IF NOT EXISTS devices_by_network ON devices (network, status, started_at);
CREATE INDEX IF NOT EXISTS devices_by_group ON devices (grp, status, started_at);
CREATE INDEX IF NOT EXISTS devices_by_expiry ON devices (expires_at);
CREATE TABLE IF NOT EXISTS wrong_codes (
  network TEXT PRIMARY KEY, -- a network's or a group's keyed hash
  count INTEGER NOT NULL,
  window_ends_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wrong_codes_by_window ON wrong_codes (window_ends_at);
CREATE INDEX IF NOT EXISTS wrong_codes_by_count ON wrong_codes (count, window_ends_at);
`;

export class DeviceFlowObject extends DurableObject implements DeviceFlowStore {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(SCHEMA);
    // A table created before scopes lacks the column (CREATE TABLE IF NOT EXISTS leaves it as it was).
    if (this.#count(`SELECT COUNT(*) AS n FROM pragma_table_info('devices') WHERE name = 'scope'`) === 0) {
      this.#sql.exec(`ALTER TABLE devices ADD COLUMN scope TEXT`);
    }
  }

  async start(device: NewDevice, limits: DeviceLimits): Promise<DeviceStart> {
    const result = this.ctx.storage.transactionSync((): DeviceStart => {
      this.#sweep(device.startedAt);
      const fromNetwork = this.#sql
        .exec<{ n: number; first: number | null }>(`SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM devices WHERE network = ? AND status = 'pending'`, device.network)
        .one();
      if (fromNetwork.n >= limits.perNetwork) return { ok: false, reason: 'network limit', retryAt: fromNetwork.first ?? device.startedAt };
      if (this.#count(`SELECT COUNT(*) AS n FROM devices WHERE user_code = ?`, device.userCodeKey) > 0) return { ok: false, reason: 'user code taken' };
      let shed = 0;
      while (this.#count(`SELECT COUNT(*) AS n FROM devices WHERE status = 'pending'`) >= limits.total) {
        // Full: make room at the expense of the network group holding the most (ties: whoever waited longest).
        const busiest = this.#sql
          .exec<{ grp: string }>(`SELECT grp FROM devices WHERE status = 'pending' GROUP BY grp ORDER BY COUNT(*) DESC, MIN(started_at) ASC LIMIT 1`)
          .toArray()[0];
        if (busiest === undefined) break;
        this.#sql.exec(
          `DELETE FROM devices WHERE device_key = (SELECT device_key FROM devices WHERE grp = ? AND status = 'pending' ORDER BY started_at ASC LIMIT 1)`,
          busiest.grp,
        );
        shed++;
      }
      this.#sql.exec(
        `INSERT INTO devices (device_key, user_code, network, grp, name, scope, requester, started_at, expires_at, status, interval_s, last_polled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, 0)`,
        device.deviceKey,
        device.userCodeKey,
        device.network,
        device.group,
        device.name,
        device.scope,
        JSON.stringify(device.requester),
        device.startedAt,
        device.expiresAt,
        device.interval,
      );
      return { ok: true, shed };
    });
    if (result.ok) await this.#armSweep();
    return result;
  }

  async enter(userCodeKey: string | null, from: { network: string; group: string }, now: number, limits: DeviceLimits): Promise<DeviceEntry> {
    const result = this.ctx.storage.transactionSync((): DeviceEntry => {
      this.#sweep(now);
      const counted = [
        { key: `n:${from.network}`, max: limits.wrongCodesPerNetwork },
        { key: `g:${from.group}`, max: limits.wrongCodesPerGroup },
      ].map((c) => ({ ...c, row: this.#sql.exec<{ count: number; until: number }>(`SELECT count, window_ends_at AS until FROM wrong_codes WHERE network = ?`, c.key).toArray()[0] }));
      const blocked = counted.filter((c) => c.row !== undefined && c.row.count >= c.max);
      if (blocked.length > 0) return { status: 'wait', until: Math.max(...blocked.map((c) => c.row!.until)) };
      const row =
        userCodeKey === null
          ? undefined
          : this.#sql.exec<DeviceRow>(`SELECT * FROM devices WHERE user_code = ? AND status = 'pending'`, userCodeKey).toArray()[0];
      if (row !== undefined) {
        return { status: 'found', device: { name: row.name, scope: row.scope === null || row.scope === 'write' ? 'write' : 'read', requester: parseRequester(row.requester), startedAt: row.started_at } };
      }
      for (const c of counted) {
        if (c.row !== undefined) {
          this.#sql.exec(`UPDATE wrong_codes SET count = count + 1 WHERE network = ?`, c.key);
          continue;
        }
        if (this.#count(`SELECT COUNT(*) AS n FROM wrong_codes`) >= limits.wrongCodeNetworks) {
          // Full: drop the smallest count (then the oldest), never one that is holding a guesser back.
          this.#sql.exec(`DELETE FROM wrong_codes WHERE network = (SELECT network FROM wrong_codes ORDER BY count ASC, window_ends_at ASC LIMIT 1)`);
        }
        this.#sql.exec(`INSERT INTO wrong_codes (network, count, window_ends_at) VALUES (?, 1, ?)`, c.key, now + limits.wrongCodesWindowMs);
      }
      return { status: 'unknown' };
    });
    if (result.status === 'unknown') await this.#armSweep();
    return result;
  }

  async answer(userCodeKey: string, answer: DeviceAnswer, now: number): Promise<boolean> {
    const changed = answer.allowed
      ? this.#sql.exec(
          `UPDATE devices SET status = 'approved', person_key = ?, waiting = ? WHERE user_code = ? AND status = 'pending' AND expires_at > ?`,
          answer.personKey,
          answer.waiting,
          userCodeKey,
          now,
        )
      : this.#sql.exec(`UPDATE devices SET status = 'denied' WHERE user_code = ? AND status = 'pending' AND expires_at > ?`, userCodeKey, now);
    return changed.rowsWritten > 0;
  }

  async poll(deviceKey: string, now: number): Promise<DevicePollState> {
    return this.ctx.storage.transactionSync((): DevicePollState => {
      const row = this.#sql.exec<DeviceRow>(`SELECT * FROM devices WHERE device_key = ?`, deviceKey).toArray()[0];
      if (row === undefined || row.expires_at <= now) return { status: 'expired' };
      if (row.status === 'denied' || row.status === 'approved') {
        // Told once: the command line stops polling, and the row's job is done.
        this.#sql.exec(`DELETE FROM devices WHERE device_key = ?`, deviceKey);
        if (row.status === 'denied') return { status: 'denied' };
        if (row.person_key === null || row.waiting === null) return { status: 'expired' };
        return { status: 'approved', personKey: row.person_key, waiting: row.waiting };
      }
      if (now - row.last_polled_at < row.interval_s * 1000) {
        const interval = row.interval_s + SLOW_DOWN_STEP_SECONDS;
        this.#sql.exec(`UPDATE devices SET interval_s = ?, last_polled_at = ? WHERE device_key = ?`, interval, now, deviceKey);
        return { status: 'slow_down', interval };
      }
      this.#sql.exec(`UPDATE devices SET last_polled_at = ? WHERE device_key = ?`, now, deviceKey);
      return { status: 'pending' };
    });
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#sweep(now);
    if (this.#count(`SELECT COUNT(*) AS n FROM devices`) + this.#count(`SELECT COUNT(*) AS n FROM wrong_codes`) > 0) {
      await this.ctx.storage.setAlarm(now + SWEEP_INTERVAL_MS);
    }
  }

  #sweep(now: number): void {
    this.#sql.exec(`DELETE FROM devices WHERE expires_at <= ?`, now);
    this.#sql.exec(`DELETE FROM wrong_codes WHERE window_ends_at <= ?`, now);
  }

  #count(query: string, ...bindings: SqlStorageValue[]): number {
    return this.#sql.exec<{ n: number }>(query, ...bindings).one().n;
  }

  async #armSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
  }
}

function parseRequester(text: string): Requester {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && typeof (value as Requester).address === 'string') {
      const { address, country, city } = value as Requester;
      return { address, ...(typeof country === 'string' ? { country } : {}), ...(typeof city === 'string' ? { city } : {}) };
    }
  } catch {
    // stored by this object: never malformed, but never trusted blindly either
  }
  return { address: 'unknown' };
}
