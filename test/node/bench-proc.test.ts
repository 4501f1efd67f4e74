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
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 300; while (Date.now() < end); setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(processTree(process.pid)).toContain(child.pid);
      expect(treeCpuMs(process.pid)).toBeGreaterThanOrEqual(cpuMs(process.pid) + cpuMs(child.pid ?? 0));
      expect(cpuMs(child.pid ?? 0)).toBeGreaterThan(100);
    } finally {
      child.kill();
    }
  });
});
