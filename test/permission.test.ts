// Permission errors name the object's owner and mode, for every System V
// kind (setpriv drops to nobody; root itself is never refused).
import { describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, run, track } from './helpers/run.js';

const asNobody = (args: string[]) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', IPCCTL, ...args]);

function created(kind: 'm' | 's', args: string[]): number {
  const r = ipcctl(args);
  expect(r.code, r.stderr).toBe(0);
  return track(kind, Number(r.stdout.trim()));
}

describe('EACCES and EPERM hints', () => {
  it('shm read: exit 5, owner and mode named', () => {
    const id = created('m', ['shm', 'create', '--size', '4K', '-m', '0600']);
    const r = asNobody(['shm', 'read', String(id)]);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(`ipcctl: shm read ${id}: EACCES, permission denied (segment ${id} belongs to root (uid 0), mode 0600; you are uid 65534)\n`);
  });

  it('sem op: exit 5, owner and mode named, value unchanged', () => {
    const id = created('s', ['sem', 'create', '--value', '1', '-m', '0640']);
    const r = asNobody(['sem', 'op', String(id), '0:-1']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`EACCES, permission denied \\(semaphore set ${id} belongs to root \\(uid 0\\), mode 0640; you are uid 65534\\)`));
    expect(ipcctl(['sem', 'ctl', String(id), 'getval', '0']).stdout.trim()).toBe('1');
  });

  it('shm rm by someone else: exit 5, EPERM, the segment stays', () => {
    const id = created('m', ['shm', 'create', '--size', '4K', '-m', '0666']);
    const r = asNobody(['shm', 'rm', String(id)]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/EPERM, not permitted: only the owner, the creator or root may do this \(segment \d+ belongs to root/);
    expect(ipcctl(['shm', 'stat', String(id)]).code).toBe(0);
  });
});
