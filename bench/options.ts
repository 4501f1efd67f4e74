/** `npm run bench` flags → the run's settings. A full run by default; --quick for a smoke run. */
import { parseArgs } from 'node:util';

export const USAGE = `npm run bench [-- --runtime workers|deno] [--quick] [--duration S] [--rounds N] [--warmup S]
                [--concurrency 1,8,32] [--download-mib 1024] [--upload-mib 256]
                [--instructions] [--instruction-requests 1000] [--instruction-rounds 3]
                [--requests 2000]

  --runtime        workers (the default): the gateway on workerd against a bare Worker;
                   deno: the gateway on deno serve against a bare Deno pass-through
  --quick          a smoke run: fewer and shorter rounds, two concurrencies, 64 MiB down and
                   16 MiB up; flags given beside it still apply
  --instructions   also count workerd instructions per request under callgrind (needs valgrind;
                   Workers only)
  --requests       Deno only: requests per round and server (CPU time and KV operations are
                   read before and after a fixed number of requests; --duration and --warmup
                   are the Workers run's). A full Deno run has 5 rounds by default`;

/** The runtimes the benchmark measures the gateway on. */
export const RUNTIMES = ['workers', 'deno'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export interface BenchOptions {
  runtime: Runtime;
  quick: boolean;
  durationMs: number;
  rounds: number;
  warmupMs: number;
  concurrencies: number[];
  downloadBytes: number;
  uploadBytes: number;
  instructions: boolean;
  instructionRequests: number;
  instructionRounds: number;
  /** Deno: requests per round and server. */
  requests: number;
}

/** The value flags, as a full run and as a quick run sets them. */
const FULL = {
  duration: '2',
  rounds: '3',
  warmup: '1',
  concurrency: '1,8,32',
  'download-mib': '1024',
  'upload-mib': '256',
  'instruction-requests': '1000',
  'instruction-rounds': '3',
  requests: '2000',
};
const QUICK: typeof FULL = {
  duration: '0.5',
  rounds: '2',
  warmup: '0.25',
  concurrency: '1,8',
  'download-mib': '64',
  'upload-mib': '16',
  'instruction-requests': '200',
  'instruction-rounds': '2',
  requests: '500',
};

/**
 * The Deno run's own defaults where they differ: more rounds, since its throughput verdict
 * is read from CPU time in rounds of a fixed number of requests, and each round is short.
 */
const DENO_FULL: Partial<typeof FULL> = { rounds: '5' };

/** A flag the run cannot use; the message says which and why. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

/** Parses the flags; undefined means --help. Throws OptionsError on an unknown flag or a bad value. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const values = flags(argv);
  if (values.help) return undefined;
  const defaults = values.quick ? QUICK : values.runtime === 'deno' ? { ...FULL, ...DENO_FULL } : FULL;
  const value = (name: keyof typeof FULL): string => values[name] ?? defaults[name];
  const mib = 1024 * 1024;
  const runtime = RUNTIMES.find((name) => name === values.runtime);
  if (runtime === undefined) throw new OptionsError(`--runtime must be ${RUNTIMES.join(' or ')} (got ${JSON.stringify(values.runtime)})`);
  if (runtime !== 'workers' && values.instructions) throw new OptionsError('--instructions counts workerd instructions: it goes with --runtime workers only');
  return {
    runtime,
    quick: values.quick,
    durationMs: positive('duration', value('duration')) * 1000,
    rounds: count('rounds', value('rounds')),
    warmupMs: decimal('warmup', value('warmup')) * 1000,
    concurrencies: value('concurrency').split(',').map((part) => count('concurrency', part)),
    downloadBytes: count('download-mib', value('download-mib')) * mib,
    uploadBytes: count('upload-mib', value('upload-mib')) * mib,
    instructions: values.instructions,
    instructionRequests: count('instruction-requests', value('instruction-requests')),
    instructionRounds: count('instruction-rounds', value('instruction-rounds')),
    requests: count('requests', value('requests')),
  };
}

function flags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        runtime: { type: 'string', default: 'workers' },
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
        instructions: { type: 'boolean', default: false },
        duration: { type: 'string' },
        rounds: { type: 'string' },
        warmup: { type: 'string' },
        concurrency: { type: 'string' },
        'download-mib': { type: 'string' },
        'upload-mib': { type: 'string' },
        'instruction-requests': { type: 'string' },
        'instruction-rounds': { type: 'string' },
        requests: { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new OptionsError(error instanceof Error ? error.message : String(error));
  }
}

function decimal(flag: string, text: string): number {
  // Number('') is 0 and Number('1e3') is 1000: insist on a plain decimal.
  if (!/^\d+(\.\d+)?$/.test(text)) throw new OptionsError(`--${flag} must be a number (got ${JSON.stringify(text)})`);
  return Number(text);
}

function positive(flag: string, text: string): number {
  const n = decimal(flag, text);
  if (n <= 0) throw new OptionsError(`--${flag} must be more than 0 (got ${text})`);
  return n;
}

function count(flag: string, text: string): number {
  const n = positive(flag, text);
  if (!Number.isInteger(n)) throw new OptionsError(`--${flag} must be a whole number (got ${text})`);
  return n;
}
