/**
 * The gateway's log events are one list (LOG_EVENTS in src/log.ts): the logger accepts no
 * other name, and docs/security.md's table must say the same, event for event.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../src/log.ts';

function documentedEvents(): Map<string, string> {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  const section = /<!-- log-events:start -->([\s\S]*?)<!-- log-events:end -->/.exec(doc)?.[1];
  if (section === undefined) throw new Error('docs/security.md has no log-events table');
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z_]+)` \| (.+) \|$/.exec(line.trim());
    if (match !== null) rows.set(match[1]!, match[2]!);
  }
  return rows;
}

describe('log events', () => {
  it('docs/security.md lists exactly the events the code logs, with the same descriptions', () => {
    const documented = documentedEvents();
    expect([...documented.keys()].sort()).toEqual(Object.keys(LOG_EVENTS).sort());
    for (const [event, description] of Object.entries(LOG_EVENTS)) expect(documented.get(event), event).toBe(description);
  });

  it('every event the source names is in the list', () => {
    // A literal event name passed to log.info/warn/error anywhere in src/ must be a known event.
    const used = execSync(String.raw`grep -rhoE "log(\.[a-z]+)?\.(info|warn|error)\('([a-z_]+)'" src`, { encoding: 'utf8' })
      .split('\n')
      .map((line) => /'([a-z_]+)'/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect(used.length).toBeGreaterThan(10);
    for (const name of new Set(used)) expect(Object.keys(LOG_EVENTS), name).toContain(name);
  });
});
