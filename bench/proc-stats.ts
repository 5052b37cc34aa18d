/**
 * Readers of /proc for the measurements: CPU ticks of a process tree (the proxy's cost), the machine's and
 * this process's CPU (how noisy a run was), and resident memory of a process tree.
 * Not pidusage: it reads the same /proc/<pid>/stat but per pid, rounded to ms, and without the walk over
 * descendants (nginx and cluster workers) that the CPU-per-request figure needs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      /* exited */
    }
  }
  return out;
}

/** User and system CPU of a process and all its live descendants (nginx master+worker, cluster workers), in µs. */
export function treeCpuMicros(pid: number): { user: number; sys: number } {
  let user = 0;
  let sys = 0;
  for (const p of descendants(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // comm may contain spaces
      user += Number(fields[11]); // utime: field 14 of stat
      sys += Number(fields[12]); // stime: field 15
    } catch {
      /* exited */
    }
  }
  return { user: (user * 1e6) / CLK_TCK, sys: (sys * 1e6) / CLK_TCK };
}

/**
 * CPU seconds used so far by the whole machine and by the bench: this process, its live descendants and
 * its exited (reaped) children. Their difference over a run, or over one cell, is what other processes
 * took: a measure of how noisy that measurement was.
 */
export function cpuAccounting(): { machine: number; ours: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3] - cpu[4]; // all but idle and iowait
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
  const live = treeCpuMicros(process.pid); // utime+stime of this process and every live descendant
  return { machine: busy / CLK_TCK, ours: (f[13] + f[14]) / CLK_TCK + (live.user + live.sys) / 1e6 }; // + cutime cstime
}

/** VmRSS of a process tree, in MB. */
export function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of descendants(pid)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kb / 1024;
}
