/** What Linux's /proc says about a process: the CPU time and memory the benchmark reports. */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

/**
 * The CPU time in a /proc/<pid>/stat line, user + system, in ticks: every thread of the
 * process, but not its children. Throws on a line it cannot read.
 */
export function statCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces and parentheses: split after its last ')'.
  const afterName = stat.slice(stat.lastIndexOf(')') + 2);
  const fields = afterName.split(' ');
  // Fields 14 (utime) and 15 (stime) of the whole line, 12 and 13 counting from field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (stat.lastIndexOf(')') < 0 || fields.length < 13 || !Number.isFinite(ticks)) throw new Error(`not a /proc stat line: ${JSON.stringify(stat.slice(0, 80))}`);
  return ticks;
}

/** CPU time (user + system) the process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  try {
    return (statCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / TICKS_PER_SECOND;
  } catch (error) {
    throw new Error(`cannot read the CPU time of process ${pid}`, { cause: error });
  }
}

/** The process ids in a /proc/<pid>/task/<tid>/children file (space-separated). */
export function parseChildren(text: string): number[] {
  return text
    .split(/\s+/)
    .filter((part) => part !== '')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** The process and every process below it, as they are now. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]!; // i < tree.length
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue; // it has ended since its parent listed it
    }
    for (const task of tasks) {
      try {
        tree.push(...parseChildren(readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8')));
      } catch {
        // The thread has ended.
      }
    }
  }
  return tree;
}

/**
 * CPU time (user + system) used so far by the process and the processes running below it,
 * in milliseconds. A child that ended between two readings takes its time with it: the
 * servers measured here start none, so this only guards against one that would.
 */
export function treeCpuMs(pid: number): number {
  let total = cpuMs(pid);
  for (const child of processTree(pid).slice(1)) {
    try {
      total += cpuMs(child);
    } catch {
      // Ended between the listing and the reading.
    }
  }
  return total;
}

/** Resident memory, in MiB. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`cannot read the memory of process ${pid}`);
  return Number(match[1]) / 1024;
}
