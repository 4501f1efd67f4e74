/**
 * KV operations per request, read back from the gateway's own request log. The measured
 * Workers write their output to a file (see workerd.ts); this reads the gateway's
 * `request` lines from it and refuses to report 0 operations when it read no lines.
 */
import { readFileSync } from 'node:fs';

/** The fields of a gateway `request` log line that the benchmark uses. */
export interface RequestLogLine {
  route?: string;
  kvReads?: number;
  kvWrites?: number;
}

/**
 * The gateway's `request` lines in a stretch of workerd output. workerd's structured log
 * wraps each line as `{ timestamp, level, message }`, the gateway's JSON in `message`;
 * anything else (workerd's own notices, other events) is skipped.
 */
export function parseRequestLines(output: string): RequestLogLine[] {
  const lines: RequestLogLine[] = [];
  for (const raw of output.split('\n')) {
    const message = messageOf(raw);
    if (message === undefined || !message.includes('"event":"request"')) continue;
    const line = parseObject(message);
    if (line?.['event'] === 'request') lines.push(line);
  }
  return lines;
}

function messageOf(raw: string): string | undefined {
  const message = parseObject(raw)?.['message'];
  return typeof message === 'string' ? message : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface KvTally {
  reads: number;
  writes: number;
  /** Request lines counted: without any, "0 operations" would mean "not read". */
  lines: number;
}

export const emptyTally = (): KvTally => ({ reads: 0, writes: 0, lines: 0 });

/**
 * Adds the request lines of `route` (the measured one: '/api/*', '/mcp') to `tally`; the
 * other routes' (the sign-in's pages) are not what is measured.
 */
export function tallyKv(tally: KvTally, lines: readonly RequestLogLine[], route: string): KvTally {
  for (const line of lines) {
    if (line.route !== route) continue;
    tally.reads += line.kvReads ?? 0;
    tally.writes += line.kvWrites ?? 0;
    tally.lines++;
  }
  return tally;
}

export interface KvPerRequest {
  reads: number;
  writes: number;
}

/** Reads and writes per request; throws rather than report 0 when no line was read. */
export function kvPerRequest(tally: KvTally, where: string): KvPerRequest {
  if (tally.lines === 0) throw new Error(`no request log lines from ${where}: cannot count KV operations`);
  return { reads: tally.reads / tally.lines, writes: tally.writes / tally.lines };
}

/**
 * Complete lines added to `text` since byte `offset`, and the offset to read from next.
 * A line still being written (no newline yet) is left for the next read.
 */
export function completeLinesSince(text: Buffer, offset: number): { fresh: string; next: number } {
  const end = text.lastIndexOf(0x0a) + 1;
  return { fresh: text.subarray(Math.min(offset, end), end).toString('utf8'), next: Math.max(offset, end) };
}

/** A reader of the request lines written to `file` since its previous call. */
export function requestLogReader(file: string): () => RequestLogLine[] {
  let offset = 0;
  return () => {
    const { fresh, next } = completeLinesSince(readFileSync(file), offset);
    offset = next;
    return parseRequestLines(fresh);
  };
}
