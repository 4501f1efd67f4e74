/**
 * KV operations per request from the gateway's request log as workerd writes it: the
 * lines found, the ones skipped, and no "0 operations" from a log that said nothing.
 */
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeLinesSince, emptyTally, kvPerRequest, parseRequestLines, requestLogReader, tallyKv } from '../../bench/request-log.ts';

/** A gateway log line as workerd's structured logging writes it to stdout. */
const workerdLine = (fields: Record<string, unknown>) =>
  JSON.stringify({ timestamp: 1764640000000, level: 'log', message: JSON.stringify({ level: 'info', ...fields }) });

const apiRequest = (kvReads?: number, kvWrites?: number) => workerdLine({ event: 'request', requestId: 'r', route: '/api/*', status: 200, kvReads, kvWrites });

describe('parseRequestLines', () => {
  it("reads the gateway's request lines out of workerd's wrapper", () => {
    const lines = parseRequestLines([apiRequest(1, 0), apiRequest(0, 1)].join('\n'));
    expect(lines).toEqual([
      expect.objectContaining({ event: 'request', route: '/api/*', kvReads: 1, kvWrites: 0 }),
      expect.objectContaining({ kvReads: 0, kvWrites: 1 }),
    ]);
  });

  it("skips other events, workerd's own text, blank lines and broken JSON", () => {
    const output = [
      workerdLine({ event: 'refresh', route: '/api/*', kvReads: 5 }),
      'workerd/server/server.c++:1234: info: something',
      '',
      '{"timestamp":1,"message":"{\\"event\\":\\"request\\",broken"}',
      JSON.stringify({ timestamp: 1, level: 'log', message: 'a plain "event":"request" sentence' }),
      apiRequest(1, 0),
    ].join('\n');
    expect(parseRequestLines(output)).toHaveLength(1);
  });

  it('skips a line with no message field', () => {
    expect(parseRequestLines(JSON.stringify({ event: 'request', route: '/api/*' }))).toEqual([]);
  });
});

describe('tallyKv and kvPerRequest', () => {
  it('counts the API requests only, a missing count as none', () => {
    const lines = parseRequestLines(
      [apiRequest(1, 0), apiRequest(undefined, undefined), workerdLine({ event: 'request', route: '/', kvReads: 3, kvWrites: 3 }), apiRequest(0, 1)].join('\n'),
    );
    const tally = tallyKv(emptyTally(), lines, '/api/*');
    expect(tally).toEqual({ reads: 1, writes: 1, lines: 3 });
    expect(kvPerRequest(tally, 'the gateway')).toEqual({ reads: 1 / 3, writes: 1 / 3 });
  });

  it("counts the measured route's lines only: /mcp, not the API's nor the sign-in's", () => {
    const mcp = (kvReads: number) => workerdLine({ event: 'request', route: '/mcp', status: 200, kvReads, kvWrites: 0 });
    const lines = parseRequestLines([apiRequest(1, 1), mcp(2), workerdLine({ event: 'request', route: '/oauth/token', kvReads: 4, kvWrites: 4 }), mcp(0)].join('\n'));
    expect(tallyKv(emptyTally(), lines, '/mcp')).toEqual({ reads: 2, writes: 0, lines: 2 });
  });

  it('adds to a tally across rounds', () => {
    const tally = tallyKv(tallyKv(emptyTally(), parseRequestLines(apiRequest(1, 0)), '/api/*'), parseRequestLines(apiRequest(1, 0)), '/api/*');
    expect(tally).toEqual({ reads: 2, writes: 0, lines: 2 });
  });

  it('refuses to report 0 operations when it read no request line', () => {
    expect(() => kvPerRequest(emptyTally(), 'gateway at concurrency 8 (bench-out/logs/gateway.log)')).toThrow(
      'no request log lines from gateway at concurrency 8 (bench-out/logs/gateway.log): cannot count KV operations',
    );
  });
});

describe('completeLinesSince', () => {
  it('leaves a line still being written for the next read', () => {
    const first = completeLinesSince(Buffer.from('one\ntwo\nthr'), 0);
    expect(first).toEqual({ fresh: 'one\ntwo\n', next: 8 });
    expect(completeLinesSince(Buffer.from('one\ntwo\nthree\n'), first.next)).toEqual({ fresh: 'three\n', next: 14 });
  });

  it('gives nothing new when nothing was completed', () => {
    expect(completeLinesSince(Buffer.from('one\npart'), 4)).toEqual({ fresh: '', next: 4 });
    expect(completeLinesSince(Buffer.from(''), 0)).toEqual({ fresh: '', next: 0 });
  });
});

describe('requestLogReader', () => {
  it('reads each line of a growing file once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-log-')), 'gateway.log');
    writeFileSync(file, `${apiRequest(1, 0)}\n${apiRequest(0, 0).slice(0, 20)}`);
    const read = requestLogReader(file);
    expect(read()).toHaveLength(1);
    appendFileSync(file, `${apiRequest(0, 0).slice(20)}\n${apiRequest(0, 1)}\n`);
    expect(read().map((l) => l.kvWrites)).toEqual([0, 1]);
    expect(read()).toEqual([]);
  });
});
