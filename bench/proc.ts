/** What Linux's /proc says about a process: the CPU time and memory the benchmark reports. */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) the process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const afterName = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '';
  const fields = afterName.split(' ');
  // Fields 14 (utime) and 15 (stime) of the whole line, 12 and 13 counting from field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read the CPU time of process ${pid}`);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Resident memory, in MiB. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`cannot read the memory of process ${pid}`);
  return Number(match[1]) / 1024;
}
