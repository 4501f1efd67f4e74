/** What every route module of the simulator shares: its memory, its switches, its counters. */
import { initialApps, type RegisteredApp } from './apps.ts';
import { DemoContent } from './content.ts';
import { DEFAULT_USER, SimulatorState } from './state.ts';
import {
  emptyStats,
  noFaults,
  settingsFrom,
  type ApiKey,
  type SimulatorFaults,
  type SimulatorHooks,
  type SimulatorOptions,
  type SimulatorSettings,
  type SimulatorStats,
} from './switches.ts';

export interface SimContext {
  readonly options: Readonly<SimulatorOptions>;
  readonly state: SimulatorState;
  /** Saved queries, looks, dashboards and folders (sim/content.ts). */
  readonly content: DemoContent;
  readonly apps: Map<string, RegisteredApp>;
  readonly apiKeys: readonly ApiKey[];
  readonly settings: SimulatorSettings;
  readonly faults: SimulatorFaults;
  readonly stats: SimulatorStats;
  readonly hooks: SimulatorHooks;
}

export const DEFAULT_API_KEYS: ApiKey[] = [{ clientId: 'sim-admin-id', clientSecret: 'sim-admin-secret', admin: true }];

export function createContext(options: SimulatorOptions): SimContext {
  const users = options.users ?? [options.user ?? DEFAULT_USER];
  const state = new SimulatorState(users, options.now ?? Date.now);
  const apiKeys = options.apiKeys ?? DEFAULT_API_KEYS;
  for (const key of apiKeys) {
    if (key.userId !== undefined && state.user(key.userId) === undefined) {
      throw new Error(`The API key ${JSON.stringify(key.clientId)} belongs to no simulated user (userId ${JSON.stringify(key.userId)}).`);
    }
  }
  return {
    options,
    state,
    content: new DemoContent(users),
    apps: initialApps(options),
    apiKeys,
    settings: settingsFrom(options),
    faults: noFaults(),
    stats: emptyStats(),
    hooks: { downloadGate: Promise.resolve() },
  };
}
