/** `npm run bench` flags → the run's settings. A full run by default; --quick for a smoke run. */
import { parseArgs } from 'node:util';

export const USAGE = `npm run bench [-- --quick] [--duration S] [--rounds N] [--warmup S] [--concurrency 1,8,32]
                [--download-mib 1024] [--upload-mib 256]
                [--instructions] [--instruction-requests 1000] [--instruction-rounds 3]

  --quick          a smoke run: fewer and shorter rounds, two concurrencies, 64 MiB down and
                   16 MiB up; flags given beside it still apply
  --instructions   also count workerd instructions per request under callgrind (needs valgrind)`;

export interface BenchOptions {
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
};

/** A flag the run cannot use; the message says which and why. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

/** Parses the flags; undefined means --help. Throws OptionsError on an unknown flag or a bad value. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const values = flags(argv);
  if (values.help) return undefined;
  const defaults = values.quick ? QUICK : FULL;
  const value = (name: keyof typeof FULL): string => values[name] ?? defaults[name];
  const mib = 1024 * 1024;
  return {
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
  };
}

function flags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
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
