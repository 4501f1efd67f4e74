/**
 * Structured logs: one JSON object per line. Callers pass only fields that are safe
 * to keep (ids, statuses, reasons); tokens, cookies, codes and secrets never go in.
 */

export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LogSink = (line: string) => void;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createLogger(sink: LogSink = (line) => console.log(line)): Logger {
  const write = (level: string, event: string, fields: LogFields = {}) => {
    sink(JSON.stringify({ level, event, ...fields }));
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}
