/** `npm run bench` flags: a full run by default, --quick for a smoke run, bad values refused. */
import { describe, expect, it } from 'vitest';
import { OptionsError, parseOptions } from '../../bench/options.ts';

const MIB = 1024 * 1024;

describe('parseOptions', () => {
  it('defaults to the full run', () => {
    expect(parseOptions([])).toEqual({
      runtime: 'workers',
      quick: false,
      durationMs: 2000,
      rounds: 3,
      warmupMs: 1000,
      concurrencies: [1, 8, 32],
      downloadBytes: 1024 * MIB,
      uploadBytes: 256 * MIB,
      instructions: false,
      instructionRequests: 1000,
      instructionRounds: 3,
      requests: 2000,
    });
  });

  it('reads --runtime workers or deno, Workers by default', () => {
    expect(parseOptions([])?.runtime).toBe('workers');
    expect(parseOptions(['--runtime', 'workers'])?.runtime).toBe('workers');
    expect(parseOptions(['--runtime', 'deno'])?.runtime).toBe('deno');
    expect(parseOptions(['--runtime=deno', '--quick'])).toMatchObject({ runtime: 'deno', quick: true, requests: 500 });
  });

  it('leaves the Workers run as it was when --runtime is not given', () => {
    const { runtime, requests, ...workers } = parseOptions(['--instructions', '--rounds', '4']) ?? {};
    expect(runtime).toBe('workers');
    expect(requests).toBe(2000);
    expect(workers).toMatchObject({ instructions: true, rounds: 4, durationMs: 2000, concurrencies: [1, 8, 32] });
  });

  it('gives the Deno run five rounds unless told otherwise', () => {
    expect(parseOptions(['--runtime', 'deno'])).toMatchObject({ rounds: 5, requests: 2000, concurrencies: [1, 8, 32] });
    expect(parseOptions(['--runtime', 'deno', '--rounds', '3'])?.rounds).toBe(3);
    expect(parseOptions(['--runtime', 'deno', '--quick'])?.rounds).toBe(2);
  });

  it('takes --requests for the Deno rounds', () => {
    expect(parseOptions(['--runtime', 'deno', '--requests', '3000'])).toMatchObject({ runtime: 'deno', requests: 3000 });
  });

  it('makes --quick a shorter run with smaller streams and no callgrind', () => {
    const quick = parseOptions(['--quick']);
    const full = parseOptions([]);
    if (quick === undefined || full === undefined) throw new Error('no options');
    expect(quick.quick).toBe(true);
    expect(quick.instructions).toBe(false);
    expect(quick.durationMs).toBeLessThan(full.durationMs);
    expect(quick.rounds).toBeLessThan(full.rounds);
    expect(quick.concurrencies.length).toBeLessThan(full.concurrencies.length);
    expect(quick.downloadBytes).toBe(64 * MIB);
    expect(quick.uploadBytes).toBe(16 * MIB);
  });

  it('lets flags given beside --quick apply', () => {
    const options = parseOptions(['--quick', '--rounds', '5', '--concurrency', '4', '--instructions']);
    expect(options).toMatchObject({ quick: true, rounds: 5, concurrencies: [4], instructions: true, durationMs: 500 });
  });

  it('reads fractional seconds and a zero warm-up', () => {
    expect(parseOptions(['--duration', '0.5', '--warmup', '0'])).toMatchObject({ durationMs: 500, warmupMs: 0 });
  });

  it('is undefined for --help', () => {
    expect(parseOptions(['--help'])).toBeUndefined();
  });

  it.each([
    [['--rounds', 'x'], /--rounds must be a number/],
    [['--rounds', '0'], /--rounds must be more than 0/],
    [['--rounds', '1.5'], /--rounds must be a whole number/],
    [['--duration', '1e3'], /--duration must be a number/],
    [['--duration', ''], /--duration must be a number/],
    [['--concurrency', '1,,8'], /--concurrency must be a number/],
    [['--download-mib=-1'], /--download-mib must be a number/],
    [['--bogus'], /bogus/],
    [['--runtime', 'node'], /--runtime must be workers or deno \(got "node"\)/],
    [['--runtime', 'Deno'], /--runtime must be workers or deno/],
    [['--runtime', ''], /--runtime must be workers or deno/],
    [['--runtime'], /runtime/],
    [['--runtime', 'deno', '--instructions'], /--instructions .* --runtime workers only/],
    [['--requests', '0'], /--requests must be more than 0/],
    [['stray'], /stray/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(OptionsError);
    expect(() => parseOptions(argv)).toThrow(message);
  });
});
