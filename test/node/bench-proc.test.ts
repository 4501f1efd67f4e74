/** What the benchmark reads from /proc: CPU ticks from a stat line, child processes, the CPU of a process tree. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuMs, parseChildren, processTree, statCpuTicks, treeCpuMs } from '../../bench/proc.ts';

// A real line's shape: pid, (comm), state, then fields 4–52; utime (14) = 1234 and stime (15) = 56.
const stat = (comm: string) => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 56 0 0 20 0 9 0 12345 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0`;

describe('statCpuTicks', () => {
  it('adds utime and stime', () => {
    expect(statCpuTicks(stat('deno'))).toBe(1290);
  });

  it('reads past a command name with spaces and parentheses', () => {
    expect(statCpuTicks(stat('tokio-rt) (worker 1'))).toBe(1290);
  });

  it.each([[''], ['4242 (deno)'], ['4242 (deno) S 1 2 3']])('refuses %j', (line) => {
    expect(() => statCpuTicks(line)).toThrow(/not a \/proc stat line/);
  });
});

describe('parseChildren', () => {
  it('reads the ids, ignoring spacing', () => {
    expect(parseChildren('101 202 \n')).toEqual([101, 202]);
    expect(parseChildren('')).toEqual([]);
  });
});

describe.runIf(process.platform === 'linux')('on this machine', () => {
  it('counts a child process in the tree and its CPU time', async () => {
    // The child spins until it has used 200 ms of CPU (however busy the machine), says so, then idles.
    const spin = "while (process.cpuUsage().user < 200_000); process.stdout.write('ready\\n'); setTimeout(() => {}, 30_000)";
    const child = spawn(process.execPath, ['-e', spin], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the child did not spin up within 20 s')), 20_000);
        child.stdout.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const pid = child.pid ?? 0;
      expect(processTree(process.pid)).toContain(pid);
      const [mine, its] = [cpuMs(process.pid), cpuMs(pid)];
      expect(its).toBeGreaterThanOrEqual(150);
      // Read after the two parts, and CPU time only grows.
      expect(treeCpuMs(process.pid)).toBeGreaterThanOrEqual(mine + its);
    } finally {
      child.kill();
    }
  }, 30_000);
});
