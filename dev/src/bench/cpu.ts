import * as fs from 'node:fs';

/**
 * CPU seconds this process and its reaped children (task processes) have used: a figure
 * that moves less than wall time with the machine's other load.
 */
export function cpuSeconds(): number {
  const own = process.cpuUsage();
  // /proc/self/stat fields 16 and 17 (after the command name): cutime and cstime, in clock ticks (100 Hz on Linux).
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const children = (Number(fields[13]) + Number(fields[14])) / 100;
  return (own.user + own.system) / 1e6 + children;
}
