// ipcctl msgq against the real kernel and real peers: util-linux ipcs/ipcmk,
// Perl IPC::SysV and Python sysv_ipc. What one writes, the other reads.
import { describe, expect, it } from 'vitest';
import { ipcctl, newQueue, PYTHON, run, track, uniqueKey } from './helpers/run.js';

function ipcsInfo(id: number): string {
  const r = run('ipcs', ['-q', '-i', String(id)]);
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('msgq and util-linux', () => {
  it('ipcs -q -i shows the mode, message count and byte limit that ipcctl set', () => {
    const id = newQueue(['-m', '0640']);
    expect(ipcctl(['msgq', 'send', String(id), 'one']).code).toBe(0);
    expect(ipcctl(['msgq', 'send', String(id), 'two!']).code).toBe(0);
    expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '4096']).code).toBe(0);
    const info = ipcsInfo(id);
    expect(info).toMatch(/mode=0?640/);
    expect(info).toMatch(/qnum=2\b/);
    expect(info).toMatch(/qbytes=4096\b/);
    expect(info).toMatch(/cbytes=7\b/);
    const st = JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout);
    expect(st).toMatchObject({ id, mode: '0640', qnum: 2, cbytes: 7, qbytes: 4096 });
  });

  it('a queue made by ipcmk -Q is usable by id, and by key', () => {
    const r = run('ipcmk', ['-Q', '-p', '0600']);
    expect(r.code, r.stderr).toBe(0);
    const id = track('q', Number(/(\d+)/.exec(r.stdout)![1]));
    const key = JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout).key as string;
    expect(run('ipcs', ['-q']).stdout).toContain(`${key} ${id}`);
    expect(ipcctl(['msgq', 'send', String(id), '-t', '5', 'from ipcctl']).code).toBe(0);
    const got = ipcctl(['msgq', 'recv', '-k', key, '-t', '5']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('from ipcctl');
    expect(JSON.parse(ipcctl(['--json', 'msgq', 'stat', '-k', key]).stdout).id).toBe(id);
  });
});

const perlSend = `
use IPC::SysV qw(IPC_NOWAIT);
my $id = shift;
while (my $t = shift) { my $text = shift; msgsnd($id, pack("l! a*", $t, $text), IPC_NOWAIT) or die "msgsnd: $!"; }
`;
const perlRecv = `
use IPC::SysV qw(IPC_NOWAIT);
my ($id, $n) = @ARGV;
for (1..$n) { my $buf; msgrcv($id, $buf, 65536, 0, IPC_NOWAIT) or die "msgrcv: $!"; my ($t, $text) = unpack("l! a*", $buf); print unpack("H*", $text), " $t\\n"; }
`;

describe('msgq and Perl IPC::SysV', () => {
  it('receives what Perl sent, with the kernel meaning of --type 0, N and -N', () => {
    const id = newQueue();
    const p = run('perl', ['-e', perlSend, String(id), '3', 'three', '1', 'one', '2', 'two', '3', 'three-b', '7', 'seven']);
    expect(p.code, p.stderr).toBe(0);
    // -2: lowest type <= 2 first: "one" (type 1), then "two" (type 2)
    expect(ipcctl(['msgq', 'recv', String(id), '-t', '-2']).stdout).toBe('one');
    expect(ipcctl(['msgq', 'recv', String(id), '-t', '-2']).stdout).toBe('two');
    // 3: first of type 3
    expect(ipcctl(['msgq', 'recv', String(id), '-t', '3']).stdout).toBe('three');
    // --except 3: first not of type 3
    expect(ipcctl(['msgq', 'recv', String(id), '-t', '3', '--except']).stdout).toBe('seven');
    // 0: first in the queue
    const last = JSON.parse(ipcctl(['--json', 'msgq', 'recv', String(id)]).stdout);
    expect(last).toEqual({ type: 3, size: 7, text: 'three-b' });
    expect(ipcctl(['msgq', 'recv', String(id), '--nowait']).code).toBe(3);
  });

  it('Perl receives what ipcctl sent, byte-exact and with the type', () => {
    const id = newQueue();
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 0x80]);
    expect(ipcctl(['msgq', 'send', String(id), '-t', '9'], { input: binary }).code).toBe(0);
    expect(ipcctl(['msgq', 'send', String(id), '-t', '4', 'plain text']).code).toBe(0);
    const p = run('perl', ['-e', perlRecv, String(id), '2']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(`${binary.toString('hex')} 9\n${Buffer.from('plain text').toString('hex')} 4\n`);
  });
});

const pySend = `
import sys, sysv_ipc
q = sysv_ipc.MessageQueue(int(sys.argv[1], 16))
for t, hexdata in zip(sys.argv[2::2], sys.argv[3::2]):
    q.send(bytes.fromhex(hexdata), block=False, type=int(t))
`;
const pyRecv = `
import sys, sysv_ipc
q = sysv_ipc.MessageQueue(int(sys.argv[1], 16))
for _ in range(int(sys.argv[2])):
    data, t = q.receive(block=False)
    print(data.hex(), t)
`;

describe('msgq and Python sysv_ipc', () => {
  it('receives what Python sent, binary-safe, as JSON with base64 for non-UTF-8', () => {
    const key = uniqueKey();
    const id = newQueue(['-k', key, '-x']);
    const bin = Buffer.from([0xff, 0x00, 0xc3]);
    const p = run(PYTHON, ['-c', pySend, key, '2', Buffer.from('héllo').toString('hex'), '6', bin.toString('hex')]);
    expect(p.code, p.stderr).toBe(0);
    const r = ipcctl(['--json', 'msgq', 'recv', String(id), '--all']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { type: 2, size: 6, text: 'héllo' },
      { type: 6, size: 3, base64: bin.toString('base64') },
    ]);
  });

  it('Python receives each line that ipcctl sent with --lines, and NUL records with --null', () => {
    const key = uniqueKey();
    const id = newQueue(['-k', key, '-x']);
    expect(ipcctl(['msgq', 'send', String(id), '--lines', '-t', '3'], { input: 'a\n\nccc\nlast-no-newline' }).code).toBe(0);
    expect(ipcctl(['msgq', 'send', String(id), '--null', '-t', '8'], { input: Buffer.from('x\ny\0z\0') }).code).toBe(0);
    const p = run(PYTHON, ['-c', pyRecv, key, '6']);
    expect(p.code, p.stderr).toBe(0);
    const hex = (s: string) => Buffer.from(s).toString('hex');
    expect(p.stdout).toBe(`${hex('a')} 3\n 3\n${hex('ccc')} 3\n${hex('last-no-newline')} 3\n${hex('x\ny')} 8\n${hex('z')} 8\n`);
  });
});
