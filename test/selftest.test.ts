// selftest, the smoke check: passes here, reports every mechanism, and leaves
// nothing behind (counted inside a private IPC namespace).
import { describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, run } from './helpers/run.js';

describe('ipcctl selftest', () => {
  it('passes with exit 0 and a table', () => {
    const r = ipcctl(['selftest']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^MECHANISM\s+RESULT\s+TIME\s+DETAIL/);
    expect(r.stdout).toMatch(/^msgq\s+ok\s/m);
    expect(r.stdout).toMatch(/checks passed/);
  });

  it('--json reports each mechanism, the limits, and ok', () => {
    const r = ipcctl(['--json', 'selftest']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.sysv).toBe(true);
    expect(typeof doc.limits.msgmax).toBe('number');
    const names = doc.results.map((x: { mechanism: string }) => x.mechanism);
    expect(names).toContain('msgq');
    for (const k of ['pmq', 'pshm', 'psem']) expect(names).toContain(k);
    expect(names).toContain('rpc');
    for (const x of doc.results) expect(x, x.mechanism).toMatchObject({ ok: true });
  });

  it('removes every object it made', () => {
    const r = run('unshare', [
      '--ipc',
      '--',
      'sh',
      '-c',
      `${IPCCTL} selftest >/dev/null || exit 9; cat /proc/sysvipc/msg /proc/sysvipc/shm /proc/sysvipc/sem | grep -vc '^ *key' || true`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0');
  });

  it('leaves no POSIX object behind (private mqueue and /dev/shm)', () => {
    const r = run('unshare', [
      '--ipc',
      '--mount',
      '--',
      'sh',
      '-c',
      `mount --make-rprivate / && mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue && mount -t tmpfs none /dev/shm || exit 8
       ${IPCCTL} selftest >/dev/null || exit 9; find /dev/mqueue /dev/shm -mindepth 1 | wc -l`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0');
  });
});
