/** The Deno gateway's log sink: each line whole on stdout, even when a write takes only part of it; a closed stdout loses the line quietly. */
import { stdoutLogSink } from '../../src/platform/deno/stdout-log.ts';
import { equal } from '../contract/contract.ts';

Deno.test('the stdout log sink writes each line whole, with its newline, across partial writes', () => {
  const written: number[] = [];
  // At most 5 bytes a write, as a pipe may take.
  const sink = stdoutLogSink({ writeSync: (bytes) => (written.push(...bytes.subarray(0, 5)), Math.min(5, bytes.length)) });
  sink('{"event":"request"}');
  sink('é');
  equal(new TextDecoder().decode(new Uint8Array(written)), '{"event":"request"}\né\n', 'both lines, whole');
});

Deno.test('the stdout log sink does not throw when stdout is closed', () => {
  const sink = stdoutLogSink({
    writeSync: () => {
      throw new Deno.errors.BrokenPipe('closed');
    },
  });
  sink('a line with nowhere to go');
});
