// ipcctl shm against the real kernel and real peers: ipcs, Python sysv_ipc
// and Perl IPC::SharedMem see the same bytes at the same offsets, writes
// that do not fit change nothing, and an attachment shows in nattch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { badInputCases, IPCCTL, ipcctl, ipcctlAsync, newSegment, PYTHON, run, uniqueKey } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-shm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stat(id: number) {
  const r = ipcctl(['--json', 'shm', 'stat', String(id)]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function write(id: number, data: Buffer | string, offset = 0) {
  const r = ipcctl(['shm', 'write', String(id), '--offset', String(offset)], { input: data });
  expect(r.code, r.stderr).toBe(0);
}

function read(id: number, offset: number, length: number): Buffer {
  const r = ipcctl(['shm', 'read', String(id), '--offset', String(offset), '--length', String(length)]);
  expect(r.code, r.stderr).toBe(0);
  return r.out;
}

/** Poll (bounded) until nattch is `n`: attach happens some time after spawn. */
async function nattchBecomes(id: number, n: number): Promise<void> {
  await waitFor(`nattch of ${id} to become ${n}`, () => stat(id).nattch === n, { timeoutMs: 5_000 });
}

/** ipcs -m -i ID as an object: numbers as numbers, "Not set" as null, dates as epoch seconds. */
function ipcsShm(id: number): Record<string, number | string | null> {
  const r = run('ipcs', ['-m', '-i', String(id)]);
  expect(r.code, r.stderr).toBe(0);
  const out: Record<string, number | string | null> = {};
  for (const line of r.stdout.split('\n')) {
    if (/_time=/.test(line)) {
      const [name, value] = line.split('=') as [string, string];
      out[name.trim()] = value.trim() === 'Not set' ? null : Date.parse(value.trim()) / 1000;
      continue;
    }
    for (const m of line.matchAll(/(\w+)=(\S+)/g)) out[m[1]!] = /^[0-9]+$/.test(m[2]!) && m[1] !== 'mode' ? Number(m[2]) : m[2]!;
  }
  return out;
}

describe('shm stat agrees with ipcs', () => {
  it('ipcs -m -i shows what stat --json says, while attached and after', async () => {
    const key = uniqueKey();
    const id = newSegment('12K', ['-k', key, '-x', '-m', '0640']);
    write(id, 'touch');
    const hold = ipcctlAsync(['shm', 'attach', String(id), '--hold', '30s']);
    try {
      await nattchBecomes(id, 1);
      for (const when of ['attached', 'detached']) {
        const st = stat(id);
        const ip = ipcsShm(id);
        expect(ip.shmid, when).toBe(id);
        expect(st.key).toBe(key);
        expect({
          uid: ip.uid,
          gid: ip.gid,
          cuid: ip.cuid,
          cgid: ip.cgid,
          mode: ip.mode,
          size: ip.bytes,
          lpid: ip.lpid,
          cpid: ip.cpid,
          nattch: ip.nattch,
        }).toEqual({
          uid: st.uid,
          gid: st.gid,
          cuid: st.cuid,
          cgid: st.cgid,
          mode: st.mode,
          size: st.size,
          lpid: st.lpid,
          cpid: st.cpid,
          nattch: st.nattch,
        });
        expect({ atime: ip.att_time, dtime: ip.det_time, ctime: ip.change_time }).toEqual({ atime: st.atime, dtime: st.dtime, ctime: st.ctime });
        if (when === 'attached') {
          expect(st.nattch).toBe(1);
          hold.child.kill('SIGINT');
          expect((await hold.done).code).toBe(130);
        } else expect(st.nattch).toBe(0);
      }
      expect(Object.keys(stat(id))).toEqual(expect.arrayContaining('id key mode uid gid cuid cgid size nattch cpid lpid atime dtime ctime'.split(' ')));
    } finally {
      if (hold.child.exitCode === null) hold.child.kill('SIGKILL');
    }
  });
});

const pyRead = `
import sys, sysv_ipc
m = sysv_ipc.attach(int(sys.argv[1]))
sys.stdout.write(m.read(int(sys.argv[3]), offset=int(sys.argv[2])).hex())
m.detach()
`;
const pyWrite = `
import sys, sysv_ipc
m = sysv_ipc.attach(int(sys.argv[1]))
m.write(bytes.fromhex(sys.argv[3]), offset=int(sys.argv[2]))
m.detach()
`;
const perlRead = `
use IPC::SharedMem;
my ($key, $offset, $length) = @ARGV;
my $m = IPC::SharedMem->new(hex($key), 0, 0) or die "open: $!";
my $data = $m->read($offset, $length);
defined $data or die "read: $!";
print unpack('H*', $data);
`;
const perlWrite = `
use IPC::SharedMem;
my ($key, $offset, $hex) = @ARGV;
my $m = IPC::SharedMem->new(hex($key), 0, 0) or die "open: $!";
my $data = pack('H*', $hex);
$m->write($data, $offset, length $data) or die "write: $!";
`;

describe('the same bytes at the same offsets as Python and Perl', () => {
  const bytes = Buffer.from([0, 1, 0x7f, 0x80, 0xff, 10, 13, 0, 0x41, 0xc3, 0xa9]);

  it('Python sysv_ipc reads what ipcctl wrote, and ipcctl reads what Python wrote', () => {
    const id = newSegment('64K');
    write(id, bytes, 40_000);
    const p = run(PYTHON, ['-c', pyRead, String(id), '40000', String(bytes.length)]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(bytes.toString('hex'));

    const theirs = Buffer.from('from python \u00e9\u0000!');
    const w = run(PYTHON, ['-c', pyWrite, String(id), '65000', theirs.toString('hex')]);
    expect(w.code, w.stderr).toBe(0);
    expect(read(id, 65_000, theirs.length)).toEqual(theirs);
    // Nothing around the written ranges was touched.
    expect(read(id, 39_999, 1)).toEqual(Buffer.from([0]));
    expect(read(id, 40_000 + bytes.length, 1)).toEqual(Buffer.from([0]));
  });

  it('Perl IPC::SharedMem reads what ipcctl wrote, and ipcctl reads what Perl wrote', () => {
    const key = uniqueKey();
    const id = newSegment('8K', ['-k', key, '-x']);
    write(id, bytes, 4093);
    const p = run('perl', ['-e', perlRead, key, '4093', String(bytes.length)]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(bytes.toString('hex'));

    const theirs = Buffer.from([0xde, 0xad, 0, 0xbe, 0xef]);
    const w = run('perl', ['-e', perlWrite, key, '8187', theirs.toString('hex')]);
    expect(w.code, w.stderr).toBe(0);
    expect(read(id, 8187, 5)).toEqual(theirs);
    // By key, too.
    const r = ipcctl(['shm', 'read', '-k', key, '--offset', '8187']);
    expect(r.out).toEqual(theirs);
  });
});

describe('read and write', () => {
  it('DATA words are joined by spaces; stdin is taken byte-exact', () => {
    const id = newSegment('100');
    expect(ipcctl(['shm', 'write', String(id), 'hello', 'shared', 'world']).code).toBe(0);
    expect(read(id, 0, 19).toString()).toBe('hello shared world\0');
    const bin = Buffer.from([0xff, 0, 0xfe, 10]);
    write(id, bin, 96);
    expect(read(id, 96, 4)).toEqual(bin);
  });

  it('a segment larger than one read window streams out whole, from a pipe and from a file', () => {
    const id = newSegment('20M');
    const data = Buffer.alloc(20 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i ^ 0x5a5a5a5a, i);
    write(id, data); // a pipe
    const all = ipcctl(['shm', 'read', String(id)]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.out.equals(data)).toBe(true);

    const file = join(dir, 'payload.bin');
    const other = Buffer.from(data.map((b) => b ^ 0xff));
    writeFileSync(file, other);
    const f = run('bash', ['-c', `"${IPCCTL}" shm write ${id} < "${file}"`]);
    expect(f.code, f.stderr).toBe(0);
    expect(ipcctl(['shm', 'read', String(id)]).out.equals(other)).toBe(true);
  });

  it('--hex prints what hexdump -C prints for the same bytes (repeated rows as *)', () => {
    const id = newSegment('4K');
    const data = Buffer.concat([Buffer.from('hello, shared memory!\n'), Buffer.alloc(40), Buffer.from([1, 2, 3])]);
    write(id, data, 0);
    const r = ipcctl(['shm', 'read', String(id), '--length', String(data.length), '--hex']);
    expect(r.code, r.stderr).toBe(0);
    // What util-linux hexdump -C prints for these bytes (not run here: it is
    // in bsdextrautils, which a minimal Debian lacks).
    expect(r.stdout).toBe(
      [
        '00000000  68 65 6c 6c 6f 2c 20 73  68 61 72 65 64 20 6d 65  |hello, shared me|',
        '00000010  6d 6f 72 79 21 0a 00 00  00 00 00 00 00 00 00 00  |mory!...........|',
        '00000020  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
        '00000030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 01 02  |................|',
        '00000040  03                                                |.|',
        '00000041',
        '',
      ].join('\n'),
    );
    // A run of identical rows is one '*', offsets stay those of the segment.
    const zeros = ipcctl(['shm', 'read', String(id), '--offset', '64', '--length', '256', '--hex']);
    expect(zeros.stdout).toBe(
      [
        '00000040  03 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
        '00000050  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
        '*',
        '00000140',
        '',
      ].join('\n'),
    );
  });

  it('--json gives text, or base64 for bytes that are not UTF-8', () => {
    const id = newSegment('64');
    write(id, 'abc', 10);
    expect(JSON.parse(ipcctl(['--json', 'shm', 'read', String(id), '-o', '10', '-l', '3']).stdout)).toEqual({ id, offset: 10, size: 3, text: 'abc' });
    write(id, Buffer.from([0xff, 0xfe, 0, 1]), 60);
    expect(JSON.parse(ipcctl(['--json', 'shm', 'read', String(id), '-o', '60', '-l', '4']).stdout)).toEqual({ id, offset: 60, size: 4, base64: '//4AAQ==' });
  });

  it('a reader that closes early (| head -c) ends the read quietly', () => {
    const id = newSegment('16M');
    const r = run('bash', ['-c', `set -o pipefail; "${IPCCTL}" shm read ${id} | head -c 10 | wc -c`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('10');
    expect(stat(id).nattch).toBe(0);
  });
});

describe('a write that does not fit is refused whole', () => {
  const pattern = Buffer.alloc(4096, 0xab);

  it('DATA past the end: exit 2, the message names the size, nothing written', () => {
    const id = newSegment('4K');
    write(id, pattern);
    const r = ipcctl(['shm', 'write', String(id), '--offset', '4090', 'seven!!']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ipcctl: shm write \d+: 7 bytes at offset 4090 do not fit in the 4096-byte segment \(6 bytes fit\); nothing written\n$/);
    expect(read(id, 0, 4096).equals(pattern)).toBe(true);
  });

  it('stdin past the end (a pipe): nothing written', () => {
    const id = newSegment('4K');
    write(id, pattern);
    const r = ipcctl(['shm', 'write', String(id), '--offset', '1'], { input: Buffer.alloc(4096, 1) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/4096-byte segment/);
    expect(read(id, 0, 4096).equals(pattern)).toBe(true);
  });

  it('stdin past the end (a file): nothing written', () => {
    const id = newSegment('4K');
    write(id, pattern);
    const file = join(dir, 'big.bin');
    writeFileSync(file, Buffer.alloc(5000, 2));
    const r = run('bash', ['-c', `"${IPCCTL}" shm write ${id} < "${file}"`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/5000 bytes at offset 0 do not fit in the 4096-byte segment/);
    expect(read(id, 0, 4096).equals(pattern)).toBe(true);
  });

  it('exactly to the end fits', () => {
    const id = newSegment('4K');
    expect(ipcctl(['shm', 'write', String(id), '--offset', '4094', 'ok']).code).toBe(0);
    expect(read(id, 4094, 2).toString()).toBe('ok');
  });
});

describe('attach', () => {
  it('--hold shows nattch 1 while it holds and 0 after; exit 0', async () => {
    const id = newSegment('4K');
    const hold = ipcctlAsync(['shm', 'attach', String(id), '--hold', '1500ms']);
    await nattchBecomes(id, 1);
    expect(stat(id).nattch).toBe(1);
    const r = await hold.done;
    expect(r.code, r.stderr).toBe(0);
    expect(stat(id).nattch).toBe(0);
    expect(stat(id).dtime).not.toBeNull();
  });

  it('Ctrl-C detaches and exits 130; --read-only attaches too', async () => {
    const id = newSegment('4K');
    const hold = ipcctlAsync(['shm', 'attach', String(id), '--read-only']);
    await nattchBecomes(id, 1);
    hold.child.kill('SIGINT');
    const r = await hold.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^ipcctl: shm attach \d+: interrupted\n$/);
    expect(stat(id).nattch).toBe(0);
  });

  it('a removed segment still held works, and says it goes at the last detach; once gone it is exit 4', async () => {
    const id = newSegment('4K');
    const hold = ipcctlAsync(['shm', 'attach', String(id), '--hold', '30s']);
    try {
      await nattchBecomes(id, 1);
      expect(ipcctl(['shm', 'rm', String(id)]).code).toBe(0);
      expect(stat(id).removed).toBe(true);
      // Linux lets a segment marked for removal be attached (issue 11 item 7): it works, with a word.
      for (const args of [
        ['attach', String(id), '--hold', '100ms'],
        ['write', String(id), 'x'],
        ['read', String(id), '--length', '1'],
      ]) {
        const r = ipcctl(['shm', ...args]);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.stderr).toMatch(/marked for removal: it goes away, with the data, when its other user detaches/);
      }
      expect(ipcctl(['shm', 'read', String(id), '--length', '1']).stdout).toBe('x');
    } finally {
      hold.child.kill('SIGINT');
      await hold.done;
    }
    const gone = ipcctl(['shm', 'attach', String(id), '--hold', '1s']);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^ipcctl: shm attach \d+: EINVAL, no such segment\n$/);
  });
});

describe('set, lock, unlock, rm', () => {
  it('set --mode and --owner, seen by ipcs', () => {
    const id = newSegment('4K');
    expect(ipcctl(['shm', 'set', String(id), '--mode', '0604', '--owner', '1:1']).code).toBe(0);
    const ip = ipcsShm(id);
    expect(ip.mode).toBe('0604');
    expect([ip.uid, ip.gid]).toEqual([1, 1]);
    expect(stat(id)).toMatchObject({ mode: '0604', uid: 1, gid: 1 });
  });

  it('lock and unlock set and clear the locked flag', () => {
    const id = newSegment('4K');
    const l = ipcctl(['shm', 'lock', String(id)]);
    // Root, or a memlock limit that allows it; otherwise the error must be clear.
    if (l.code !== 0) {
      expect(l.stderr).toMatch(/^ipcctl: shm lock \d+: (EPERM|ENOMEM|EACCES)/);
      return;
    }
    expect(stat(id).locked).toBe(true);
    expect(ipcctl(['shm', 'stat', String(id)]).stdout).toMatch(/locked:\s+yes/);
    expect(ipcctl(['shm', 'unlock', String(id)]).code).toBe(0);
    expect(stat(id).locked).toBe(false);
  });

  it('rm removes several; a missing one is reported and sets the exit code', () => {
    const a = newSegment('4K');
    const b = newSegment('4K');
    const r = ipcctl(['shm', 'rm', String(a), '2147483000', String(b)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/shm rm 2147483000: EINVAL/);
    expect(ipcctl(['shm', 'stat', String(a)]).code).toBe(4);
    expect(ipcctl(['shm', 'stat', String(b)]).code).toBe(4);
  });
});

describe('bad input: one line, the right exit code', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['size 0', ['shm', 'create', '--size', '0'], 2, /--size must be above 0/],
    ['a size with a bad suffix', ['shm', 'create', '--size', '4X'], 2, /invalid size '4X'/],
    ['no size', ['shm', 'create'], 2, /--size/],
    ['a non-numeric id', ['shm', 'read', 'seg'], 2, /invalid id 'seg'/],
    ['a bad offset', ['shm', 'read', '1', '--offset', '-5'], 2, /offset/],
    ['a segment that does not exist', ['shm', 'stat', '2147483000'], 4, /^ipcctl: shm stat 2147483000: EINVAL, no such segment$/],
    ['a key nobody has', ['shm', 'stat', '-k', '0x4bffffff'], 4, /ENOENT, no segment has that key/],
    ['set with nothing to set', ['shm', 'set', '1'], 2, /nothing to change/],
  ];
  badInputCases(cases);

  it('read at or past the end, and a length past the end: exit 2, naming the size', () => {
    const id = newSegment('1K');
    const at = ipcctl(['shm', 'read', String(id), '--offset', '1024']);
    expect(at.code).toBe(2);
    expect(at.stderr).toMatch(/offset 1024 is past the end of the 1024-byte segment/);
    const long = ipcctl(['shm', 'read', String(id), '--offset', '1000', '--length', '25']);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/25 bytes at offset 1000 go past the end of the 1024-byte segment \(24 bytes fit\)/);
    expect(long.stdout).toBe('');
  });

  it('a size above shmmax is refused with the limit named (in a private IPC namespace)', () => {
    // shmmax is per IPC namespace: lowering it there changes nothing outside.
    const r = run('unshare', [
      '--ipc',
      '--',
      'sh',
      '-c',
      `echo 65536 > /proc/sys/kernel/shmmax && "${IPCCTL}" shm create --size 1M; echo "rc=$?"; cat /proc/sysvipc/shm | grep -vc '^ *key'`,
    ]);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['rc=1', '0']); // refused, and nothing created
    expect(r.stderr).toBe('ipcctl: shm create: size 1048576 is above the system limit shmmax=65536 (raise it with sysctl kernel.shmmax)\n');
  });

  it('a key that exists with a smaller size', () => {
    const key = uniqueKey();
    newSegment('4K', ['-k', key, '-x']);
    const r = ipcctl(['shm', 'create', '-k', key, '--size', '8K']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a segment of 4096 bytes has that key; --size 8192 is larger/);
    // Opening it with its size (or less) gives the same id.
    const again = ipcctl(['shm', 'create', '-k', key, '--size', '4K']);
    expect(again.code).toBe(0);
  });
});
