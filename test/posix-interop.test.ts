// ipcctl pmq, pshm and psem against peers that are not ipcctl: Python's
// ctypes calling libc's mq_*, shm_open + mmap and sem_* itself, and a C
// program built here with gcc. What one side writes the other reads, byte
// for byte; priorities are kept and come out in the kernel's order.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hex, peer, trackName, uniqueName } from './helpers/posix.js';
import { ipcctl, IPCCTL } from './helpers/run.js';
import { waitUntilIdleWith } from './helpers/proc.js';

const newQueue = (extra: string[] = []) => {
  const name = trackName('pmq', uniqueName('q'));
  const r = ipcctl(['pmq', 'create', name, ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return name;
};

describe('pmq with a Python ctypes peer', () => {
  it('ipcctl sends with priorities; Python receives them highest first, FIFO within one, byte-exact', () => {
    const q = newQueue(['--max-msgs', '10', '--msg-size', '8192']);
    const binary = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7 + 3) & 0xff));
    expect(ipcctl(['pmq', 'send', q, '-p', '1', 'low']).code).toBe(0);
    expect(ipcctl(['pmq', 'send', q, '-p', '7'], { input: binary }).code).toBe(0);
    expect(ipcctl(['pmq', 'send', q, '-p', '4', '--lines'], { input: 'a\nb\n\nc' }).code).toBe(0);
    expect(ipcctl(['pmq', 'send', q, '-p', '32767', 'top']).code).toBe(0);
    const got = JSON.parse(peer('pmq_recv_all', q).stdout) as Array<[number, string]>;
    expect(got).toEqual([
      [32767, hex('top')],
      [7, binary.toString('hex')],
      [4, hex('a')],
      [4, hex('b')],
      [4, ''],
      [4, hex('c')],
      [1, hex('low')],
    ]);
  });

  it('Python sends (binary, empty, priorities); ipcctl receives in the kernel order, JSON with priority and size', () => {
    const q = newQueue();
    const bin = Buffer.from([0, 255, 10, 0, 200]);
    expect(peer('pmq_send', q, `2:${hex('two')}`, `9:${bin.toString('hex')}`, '2:', `5:${hex('héllo')}`).code).toBe(0);
    const r = ipcctl(['--json', 'pmq', 'recv', q, '--all']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { priority: 9, size: 5, base64: bin.toString('base64') },
      { priority: 5, size: 6, text: 'héllo' },
      { priority: 2, size: 3, text: 'two' },
      { priority: 2, size: 0, text: '' },
    ]);
    // Raw payload bytes, unchanged, one message without a separator.
    expect(peer('pmq_send', q, `3:${bin.toString('hex')}`).code).toBe(0);
    const raw = ipcctl(['pmq', 'recv', q]);
    expect(raw.out.equals(bin)).toBe(true);
  });

  it('a queue Python created with its attributes: ipcctl stat reports them, and mq_getattr agrees after sends', () => {
    const q = trackName('pmq', uniqueName('py'));
    expect(peer('pmq_create', q, '5', '100').code).toBe(0);
    expect(ipcctl(['pmq', 'send', q, 'x', 'y']).code).toBe(0);
    const st = JSON.parse(ipcctl(['--json', 'pmq', 'stat', q]).stdout);
    expect(st).toMatchObject({ name: q, maxmsg: 5, msgsize: 100, curmsgs: 1, mode: '0600', flags: [] });
    expect(JSON.parse(peer('pmq_attr', q).stdout)).toEqual({ maxmsg: 5, msgsize: 100, curmsgs: 1 });
  });
});

describe('pshm and psem with a Python ctypes peer', () => {
  it('ipcctl writes binary at an offset; Python reads it through shm_open + mmap, and the other way round', () => {
    const name = trackName('pshm', uniqueName('m'));
    expect(ipcctl(['pshm', 'create', name, '--size', '64K']).code).toBe(0);
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 13) & 0xff));
    expect(ipcctl(['pshm', 'write', name, '--offset', '4000'], { input: data }).code).toBe(0);
    const theirs = JSON.parse(peer('pshm_read', name, '4000', '5000').stdout);
    expect(theirs).toEqual({ size: 65536, hex: data.toString('hex') });
    expect(peer('pshm_write', name, '65530', 'deadbeef0001').code).toBe(0);
    const mine = ipcctl(['pshm', 'read', name, '--offset', '65530']);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.out.toString('hex')).toBe('deadbeef0001');
  });

  it('a segment Python made is read by ipcctl; ipcctl stat gives its size and mode', () => {
    const name = trackName('pshm', uniqueName('py'));
    expect(peer('pshm_create', name, '3000').code).toBe(0);
    expect(peer('pshm_write', name, '0', hex('from python')).code).toBe(0);
    expect(ipcctl(['pshm', 'read', name, '--length', '11']).stdout).toBe('from python');
    expect(JSON.parse(ipcctl(['--json', 'pshm', 'stat', name]).stdout)).toMatchObject({ name, size: 3000, mode: '0600' });
  });

  it('values posted by one side are seen by the other; a waiting ipcctl wakes on a Python post', async () => {
    const name = trackName('psem', uniqueName('s'));
    expect(ipcctl(['psem', 'create', name, '--value', '2']).code).toBe(0);
    expect(peer('psem_value', name).stdout.trim()).toBe('2');
    expect(ipcctl(['psem', 'post', name, '--count', '3']).code).toBe(0);
    expect(peer('psem_value', name).stdout.trim()).toBe('5');
    expect(peer('psem_post', name, '2').code).toBe(0);
    expect(JSON.parse(ipcctl(['--json', 'psem', 'stat', name]).stdout).value).toBe(7);
    for (let i = 0; i < 7; i++) expect(ipcctl(['psem', 'wait', name, '--nowait']).code).toBe(0);
    expect(ipcctl(['psem', 'wait', name, '--nowait']).code).toBe(3);
    // Blocked in sem_timedwait on a thread until Python posts.
    const child = spawn(IPCCTL, ['psem', 'wait', name, '--timeout', '15s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = new Promise<number | null>((r) => child.on('close', r));
    await waitUntilIdleWith(child.pid!, 'ffi-rs', /poll/); // opened, and waiting in poll(2) or epoll_wait
    expect(peer('psem_post', name).code).toBe(0);
    expect(await done).toBe(0);
    expect(peer('psem_value', name).stdout.trim()).toBe('0');
  });

  it('a semaphore Python made: ipcctl posts, Python takes; create on it does not reset its value', () => {
    const name = trackName('psem', uniqueName('py'));
    expect(peer('psem_create', name, '4').code).toBe(0);
    expect(ipcctl(['psem', 'create', name, '--value', '0']).code).toBe(0); // opens, never resets
    expect(peer('psem_value', name).stdout.trim()).toBe('4');
    expect(ipcctl(['psem', 'create', name, '-x']).code).toBe(1);
    expect(peer('psem_take', name).code).toBe(0);
    expect(ipcctl(['--json', 'psem', 'stat', name]).stdout).toMatch(/"value": 3/);
  });
});

describe('a C peer built with gcc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipcctl-posix-c-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'peer.c');
  const exe = join(dir, 'peer');
  writeFileSync(
    src,
    String.raw`
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  if (!strcmp(argv[1], "send")) {            /* send NAME: priorities 3, 8, 3, 0 */
    mqd_t q = mq_open(argv[2], O_WRONLY);
    if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
    const char *m[] = { "c-three", "c-eight", "c-three-again", "c-zero" };
    unsigned p[] = { 3, 8, 3, 0 };
    for (int i = 0; i < 4; i++) if (mq_send(q, m[i], strlen(m[i]), p[i])) { perror("mq_send"); return 1; }
    return 0;
  }
  if (!strcmp(argv[1], "recv")) {            /* recv NAME: every message as PRIO<TAB>TEXT */
    mqd_t q = mq_open(argv[2], O_RDONLY | O_NONBLOCK);
    struct mq_attr a;
    if (q == (mqd_t)-1 || mq_getattr(q, &a)) { perror("mq"); return 1; }
    char *buf = malloc(a.mq_msgsize + 1);
    unsigned prio;
    ssize_t n;
    while ((n = mq_receive(q, buf, a.mq_msgsize, &prio)) >= 0) { buf[n] = 0; printf("%u\t%s\n", prio, buf); }
    return 0;
  }
  if (!strcmp(argv[1], "semvalue")) {
    sem_t *s = sem_open(argv[2], 0);
    int v;
    if (s == SEM_FAILED || sem_getvalue(s, &v)) { perror("sem"); return 1; }
    printf("%d\n", v);
    return 0;
  }
  return 2;
}
`,
  );
  const built = (() => {
    try {
      execFileSync('gcc', ['-Wall', '-o', exe, src]);
      return existsSync(exe);
    } catch {
      return false;
    }
  })();

  it('builds', () => expect(built).toBe(true));

  it('C sends, ipcctl receives in priority order; ipcctl sends, C receives', () => {
    const q = newQueue();
    execFileSync(exe, ['send', q]);
    const r = ipcctl(['pmq', 'recv', q, '--all']);
    expect(r.stdout).toBe('c-eight\nc-three\nc-three-again\nc-zero\n');
    expect(ipcctl(['pmq', 'send', q, '-p', '2', '--lines'], { input: 'one\ntwo\n' }).code).toBe(0);
    expect(ipcctl(['pmq', 'send', q, '-p', '6', 'six']).code).toBe(0);
    expect(execFileSync(exe, ['recv', q]).toString()).toBe('6\tsix\n2\tone\n2\ttwo\n');
  });

  it('a value posted by ipcctl is the value C reads', () => {
    const name = trackName('psem', uniqueName('c'));
    expect(ipcctl(['psem', 'create', name, '--value', '1']).code).toBe(0);
    expect(ipcctl(['psem', 'post', name, '-c', '41']).code).toBe(0);
    expect(execFileSync(exe, ['semvalue', name]).toString()).toBe('42\n');
  });
});
