// The command line of a running process, from /proc/PID/cmdline (arguments
// NUL-separated), as lsipc's COMMAND column shows a segment's creator. null
// when the process is gone or hidden (another pid namespace, hidepid).
import { readFileSync } from 'node:fs';

const known = new Map<number, string | null>();

export function processCommand(pid: number): string | null {
  if (pid <= 0) return null;
  const cached = known.get(pid);
  if (cached !== undefined) return cached;
  let cmd: string | null;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const text = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
    cmd = text === '' ? null : text;
    if (cmd === null) cmd = readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || null; // a kernel thread, or one that cleared its argv
  } catch {
    cmd = null;
  }
  known.set(pid, cmd);
  return cmd;
}
