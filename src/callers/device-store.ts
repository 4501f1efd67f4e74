/**
 * Where device sign-ins (RFC 8628) wait before anyone has signed in, and the limits that
 * keep that room from being flooded or its short user codes from being guessed. One
 * strongly consistent store for the whole gateway (a Durable Object on Workers: see
 * src/platform/cloudflare/device-flow-object.ts); this interface is what the gateway sees of it.
 *
 * Every limit is checked and counted in the same call that acts on it, inside the store:
 * N requests at once are judged exactly as the same N one after another. A refused call
 * stores nothing. Counting is per network (an IPv6 /64, an IPv4 address) and per network
 * group (/48, /24), kept as keyed hashes. Times are passed in by the caller (the gateway's
 * clock).
 */

import type { GrantScope } from '../grants/scope.ts';

/** RFC 8628 §3.5: each slow_down adds five seconds to the interval a command line must keep. */
export const SLOW_DOWN_STEP_SECONDS = 5;

/** Where a device sign-in was started, as the person allowing it is shown. */
export interface Requester {
  /** The address the command line asked from (shown; the count uses its network's hash). */
  address: string;
  /** Two-letter country code, where the platform gives one. */
  country?: string;
  city?: string;
}

export interface DeviceLimits {
  /** Device sign-ins waiting at once from one network. */
  perNetwork: number;
  /**
   * Waiting gateway-wide; when full, the oldest one of the network group (IPv6 /48, IPv4
   * /24) with the most is dropped to make room: whoever floods from many networks of one
   * group gives way first.
   */
  total: number;
  /** Wrong user codes one network may enter per window before it must wait for the window to end. */
  wrongCodesPerNetwork: number;
  /** …and one network group, so that the many /64s of one /48 do not multiply the guesses. */
  wrongCodesPerGroup: number;
  wrongCodesWindowMs: number;
  /** Networks and groups whose wrong codes are counted at once; when full, the smallest count is dropped. */
  wrongCodeNetworks: number;
}

export interface NewDevice {
  /** Hash of the device code: the command line's handle. */
  deviceKey: string;
  /** Hash of the user code: what a person types is looked up by its hash (the store keeps no code). */
  userCodeKey: string;
  /** The name the command line asked for (chosen by the device, not by the person). */
  name: string;
  /** What the command line asked the credential to do. */
  scope: GrantScope;
  /** Keyed hashes of the requesting network and of its group. */
  network: string;
  group: string;
  requester: Requester;
  /** Seconds between polls, as told to the command line. */
  interval: number;
  startedAt: number;
  expiresAt: number;
}

export type DeviceStart =
  /** `shed`: how many waiting sign-ins of the busiest group were dropped to make room. */
  | { ok: true; shed: number }
  /** `retryAt`: when the first of the network's waiting sign-ins expires. */
  | { ok: false; reason: 'network limit'; retryAt: number }
  | { ok: false; reason: 'user code taken' };

/** A device sign-in waiting for a person, as the consent page shows it. */
export interface WaitingDevice {
  name: string;
  /** What it asks to do ('write' for a sign-in stored before scopes: those asked for everything). */
  scope: GrantScope;
  requester: Requester;
  startedAt: number;
}

export type DeviceEntry =
  | { status: 'found'; device: WaitingDevice }
  | { status: 'unknown' }
  /** Too many wrong codes from this network or its group lately (nothing was looked up or counted), until `until`. */
  | { status: 'wait'; until: number };

export type DeviceAnswer = { allowed: true; personKey: string; waiting: string } | { allowed: false };

export type DevicePollState =
  | { status: 'pending' }
  | { status: 'slow_down'; interval: number }
  | { status: 'denied' }
  | { status: 'expired' }
  /** Allowed: the grant waits in `personKey`'s ledger under `waiting` (taken once). */
  | { status: 'approved'; personKey: string; waiting: string };

export interface DeviceFlowStore {
  /** Stores a new device sign-in, unless its network is at its limit or the user code is in use. */
  start(device: NewDevice, limits: DeviceLimits): Promise<DeviceStart>;
  /**
   * A person typed the user code hashed as `userCodeKey` (null when what was typed cannot be
   * a code) from `network`: the waiting sign-in, or unknown (counted as a wrong code), or wait.
   */
  enter(userCodeKey: string | null, from: { network: string; group: string }, now: number, limits: DeviceLimits): Promise<DeviceEntry>;
  /** The person's answer; false when the sign-in is no longer waiting. */
  answer(userCodeKey: string, answer: DeviceAnswer, now: number): Promise<boolean>;
  /** One poll by the command line; approved and denied are told once, then the sign-in is gone. */
  poll(deviceKey: string, now: number): Promise<DevicePollState>;
}
