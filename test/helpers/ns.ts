// Running a shell script in a private IPC namespace (unshare --ipc), so that
// ipcmk, ipcs, lsipc and ipcctl see only the objects the script makes. The
// namespace, and every object in it, is gone when the script exits: nothing
// can leak into other tests, even when one fails half-way. inNamespaces is
// the runner for any set of namespaces (helpers/posix.ts adds a mount one).
import { spawnSync } from 'node:child_process';
import { IPCCTL, PYTHON } from './run.js';

export interface NsRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout split at lines `@@name`: the text after each, up to the next. */
  sections: Record<string, string>;
}

/**
 * Run `script` with bash inside `unshare --ipc`. `$IPCCTL` and `$PY` name
 * ipcctl and Debian's python3; `set -u` is on. Mark outputs with `echo @@name`.
 */
export function inIpcNamespace(script: string, opts: { timeout?: number } = {}): NsRun {
  return inNamespaces(['--ipc'], script, opts);
}

/**
 * Run `script` with bash inside `unshare FLAGS`, after `setup` (a line that
 * exits 99 when the namespaces cannot be set up), with `$IPCCTL`, `$PY` and
 * `env` in its environment and `set -u` on; its output split at `@@name` lines.
 */
export function inNamespaces(flags: string[], script: string, opts: { setup?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): NsRun {
  const r = spawnSync('unshare', [...flags, '--', 'bash', '-c', `set -u\n${opts.setup ? opts.setup + '\n' : ''}${script}`], {
    env: { ...process.env, NO_COLOR: '1', IPCCTL, PY: PYTHON, ...opts.env },
    timeout: opts.timeout ?? 30_000,
    maxBuffer: 1 << 28,
  });
  if (r.error) throw r.error;
  const stdout = r.stdout.toString();
  const sections: Record<string, string> = {};
  let name: string | null = null;
  for (const line of stdout.split('\n')) {
    const m = /^@@(\S+)$/.exec(line);
    if (m) {
      name = m[1]!;
      sections[name] = '';
    } else if (name !== null) sections[name] += line + '\n';
  }
  return { code: r.status, stdout, stderr: r.stderr.toString(), sections };
}

/** "rw-r-----" (lsipc's PERMS) as "0640". */
export function permsToOctal(perms: string): string {
  let n = 0;
  for (let i = 0; i < 9; i++) if (perms[i] !== '-') n |= 1 << (8 - i);
  return n.toString(8).padStart(4, '0');
}
