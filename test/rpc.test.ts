// ipcctl rpc against real peers on loopback: rpcbind (rpcinfo -p vs rpc ls,
// rpcinfo -u/-t vs rpc ping, every status it sends), the netkit daemons
// rpc.rstatd and rpc.rusersd, ipcctl's own rpc serve (seen by rpcinfo, and
// every status it can send), and small responders written here for what no
// daemon does on purpose: a dropped request, a reply with the wrong XID, a
// reply in many TCP fragments, garbage.
import { createSocket } from 'node:dgram';
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badInputCases, IPCCTL, ipcctl, ipcctlAsync, run, sleep } from './helpers/run.js';
import { type Daemon, registered, rpcinfoList, startDaemon, stopDaemon, testProgram, unregister, useRpcbind } from './helpers/rpc.js';

useRpcbind();

/** The lines of rpcinfo -p / rpc ls for programs that no parallel test registers (below 0x20000000). */
function systemLines(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .filter((l, i) => i === 0 || Number(l.trim().split(/\s+/)[0]) < 0x20000000);
}

/** A status line: exit code, one `ipcctl:` line on stderr that matches, nothing on stdout. */
function expectStatus(r: { code: number | null; stderr: string; stdout: string }, code: number, line: RegExp) {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^ipcctl: /);
  expect(r.stderr.trim()).toMatch(line);
  expect(r.stdout).toBe('');
}

describe('against rpcbind and the netkit daemons', () => {
  let rstatd: Daemon | undefined;
  let rusersd: Daemon | undefined;
  beforeAll(async () => {
    rstatd = await startDaemon('rpc.rstatd', 100001);
    rusersd = await startDaemon('rpc.rusersd', 100002);
  }, 20_000);
  afterAll(async () => {
    await stopDaemon(rstatd);
    await stopDaemon(rusersd);
  });

  it('rpc ls prints what rpcinfo -p prints', () => {
    const mine = ipcctl(['rpc', 'ls']);
    const theirs = run('rpcinfo', ['-p', '127.0.0.1']);
    expect(mine.code, mine.stderr).toBe(0);
    expect(systemLines(mine.stdout)).toEqual(systemLines(theirs.stdout));
    // The daemons this test started are in both.
    expect(mine.stdout).toMatch(/^\s+100001\s+3\s+udp\s+\d+\s+rstatd$/m);
    expect(mine.stdout).toMatch(/^\s+100002\s+2\s+udp\s+\d+\s+rusersd$/m);
    const udp = ipcctl(['rpc', 'ls', '127.0.0.1', '--udp']);
    expect(systemLines(udp.stdout)).toEqual(systemLines(theirs.stdout));
  });

  it('rpc ls --json has numbers, protocols, ports and /etc/rpc names', () => {
    const r = ipcctl(['--json', 'rpc', 'ls']);
    const rows = JSON.parse(r.stdout) as Array<{ program: number; version: number; protocol: string; port: number; name: string | null }>;
    const expected = rpcinfoList().filter((x) => x.prog < 0x20000000);
    expect(rows.filter((x) => x.program < 0x20000000).map((x) => ({ prog: x.program, vers: x.version, proto: x.protocol, port: x.port }))).toEqual(expected);
    expect(rows.find((x) => x.program === 100000)!.name).toBe('portmapper');
    expect(rows.find((x) => x.program === 100001)!.name).toBe('rstatd');
  });

  const strip = (text: string) => text.replace(/ \([0-9.]+ ms\)/g, '');

  for (const [flag, peer] of [
    ['--udp', '-u'],
    ['--tcp', '-t'],
  ] as const) {
    it(`rpc ping ${flag} says what rpcinfo ${peer} says of rpcbind, every version and one`, () => {
      for (const args of [['portmapper'], ['100000', '2'], ['rpcbind', '4']]) {
        const mine = ipcctl(['rpc', 'ping', '127.0.0.1', ...args, flag]);
        const theirs = run('rpcinfo', [peer, '127.0.0.1', ...args]);
        expect(mine.code, mine.stderr).toBe(0);
        expect(strip(mine.stdout)).toBe(theirs.stdout);
        expect(mine.stdout).toMatch(/ready and waiting \([0-9.]+ ms\)/);
      }
    });
  }

  it('rpc ping of a version rpcbind lacks: PROG_MISMATCH 2..4, as rpcinfo says', () => {
    const mine = ipcctl(['rpc', 'ping', '127.0.0.1', 'portmapper', '9']);
    const theirs = run('rpcinfo', ['-u', '127.0.0.1', 'portmapper', '9']);
    expect(theirs.stderr).toMatch(/low version = 2, high version = 4/);
    expect(mine.code).toBe(4);
    expect(mine.stdout).toBe(theirs.stdout); // "program 100000 version 9 is not available"
    expect(mine.stderr).toMatch(/^ipcctl: rpc ping: PROG_MISMATCH, program 100000 has no version 9 \(the server has versions 2 to 4\)$/m);
  });

  it('rpc ping of rstatd and rusersd agrees with rpcinfo -u', () => {
    for (const args of [
      ['rstatd', '3'],
      ['rstatd', '1'],
      ['rusersd', '2'],
      ['100002', '3'],
    ]) {
      const mine = ipcctl(['rpc', 'ping', '127.0.0.1', ...args]);
      const theirs = run('rpcinfo', ['-u', '127.0.0.1', ...args]);
      expect(theirs.code).toBe(0);
      expect(mine.code, mine.stderr).toBe(0);
      expect(strip(mine.stdout)).toBe(theirs.stdout);
    }
  });

  it('rpc call rstatd 3 1 decodes a sane statstime', () => {
    // rstat.x's statstime; netkit's rpc.rstatd sends one int more than rstat.x has (108 bytes).
    const types = [
      'int[4]',
      'int[4]',
      'uint',
      'uint',
      'uint',
      'uint',
      'uint',
      'int',
      'int',
      'int',
      'int',
      'uint',
      'int[3]',
      'uint',
      'uint',
      'uint',
      'uint',
      'int',
      'int',
    ];
    const raw = ipcctl(['rpc', 'call', '127.0.0.1', 'rstatd', '3', '1', '--raw']);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.out.length).toBe(108);
    const r = ipcctl(['--json', 'rpc', 'call', '127.0.0.1', 'rstatd', '3', '1', '--returns', ...types]);
    expect(r.code, r.stderr).toBe(0);
    const v = (JSON.parse(r.stdout) as { results: Array<{ value: number | number[] }> }).results.map((x) => x.value);
    const [cpTime, , , , , , , , , , , swtch, avenrun, bootSec, , curSec] = v as [
      number[],
      number[],
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number[],
      number,
      number,
      number,
    ];
    const now = Date.now() / 1000;
    expect(Math.abs(curSec - now)).toBeLessThan(60);
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(Math.abs(now - uptime - bootSec)).toBeLessThan(60);
    expect(cpTime.every((t) => t >= 0)).toBe(true);
    expect(swtch).toBeGreaterThan(0);
    // avenrun is the load average times 256 (FSCALE): compare with /proc/loadavg.
    const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    expect(Math.abs(avenrun[0]! / 256 - load1)).toBeLessThan(2);
  });

  it('rpc call rstatd HAVEDISK and rusersd NUM return one unsigned int', () => {
    const disk = ipcctl(['rpc', 'call', '127.0.0.1', 'rstatd', '3', '2', '--returns', 'uint']);
    expect(disk.code, disk.stderr).toBe(0);
    expect(disk.stdout).toMatch(/^uint:[01]\n$/);
    const users = ipcctl(['rpc', 'call', '127.0.0.1', 'rusersd', '2', '1', '--returns', 'uint']);
    expect(users.code, users.stderr).toBe(0);
    expect(users.stdout).toMatch(/^uint:[0-9]+\n$/);
    // The same bytes as hex without --returns.
    const hex = ipcctl(['rpc', 'call', '127.0.0.1', 'rusersd', '2', '1']);
    expect(hex.stdout).toMatch(/^00000000 {2}00 00 00 [0-9a-f]{2} /);
  });

  it('rpc call finds ports through the portmapper: GETPORT by hand gives the same port rpcinfo lists', () => {
    const port = rpcinfoList().find((x) => x.prog === 100001 && x.proto === 'udp')!.port;
    const r = ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '2', '3', 'uint:100001', 'uint:3', 'uint:17', 'uint:0', '--returns', 'uint']);
    expect(r.stdout).toBe(`uint:${port}\n`);
    const tcp = ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '2', '3', 'uint:100000', 'uint:2', 'uint:6', 'uint:0', '--returns', 'uint', '--tcp']);
    expect(tcp.stdout).toBe('uint:111\n');
  });

  it('every status rpcbind sends, each with its line and exit code', () => {
    expectStatus(
      ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '9', '0']),
      4,
      /rpc call: PROG_MISMATCH, program 100000 has no version 9 \(the server has versions 2 to 4\)$/,
    );
    expectStatus(
      ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '2', '99', '--tcp']),
      4,
      /rpc call: PROC_UNAVAIL, program 100000 version 2 has no procedure 99$/,
    );
    expectStatus(
      ipcctl(['rpc', 'call', '127.0.0.1', '0x3ffffff0', '1', '0', '--port', '111']),
      4,
      /rpc call: PROG_UNAVAIL, the server does not offer program 1073741808$/,
    );
    expectStatus(ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '2', '0', '--auth', '99']), 5, /rpc call: AUTH_ERROR AUTH_REJECTEDCRED, /);
    expectStatus(ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '2', '3', 'uint:4000000000', '--tcp']), 1, /rpc call: GARBAGE_ARGS, /);
    // libtirpc drops a call of RPC version 3 without a word: no reply is all there is.
    expectStatus(
      ipcctl(['rpc', 'call', '127.0.0.1', 'portmapper', '2', '0', '--rpcvers', '3', '--timeout', '1s', '--retry', '300ms']),
      124,
      /rpc call udp 127.0.0.1:111: no reply within 1s \(3 tries\)$/,
    );
  });

  it('a program the portmapper does not know: exit 4, one line', () => {
    expectStatus(
      ipcctl(['rpc', 'call', '127.0.0.1', '0x3ffffff1', '1', '0']),
      4,
      /rpc call: program 1073741809 version 1 is not registered over udp with the portmapper at 127.0.0.1:111$/,
    );
    const ping = ipcctl(['rpc', 'ping', '127.0.0.1', 'nfs', '--tcp']);
    expect(ping.code).toBe(4);
    expect(ping.stderr.trim()).toMatch(/^ipcctl: rpc ping: program 100003 is not registered over tcp with the portmapper at 127\.0\.0\.1:111$/);
  });

  it('AUTH_SYS calls reach rpcbind (it accepts them)', () => {
    const r = ipcctl([
      'rpc',
      'call',
      '127.0.0.1',
      'portmapper',
      '2',
      '0',
      '--auth',
      'sys',
      '--uid',
      '1234',
      '--gid',
      '55',
      '--gids',
      '1,2,3',
      '--machine',
      'lab',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });
});

/** Start `ipcctl rpc serve ARGS`; resolves once it says where it listens. */
async function startServe(args: string[]) {
  const s = ipcctlAsync(['rpc', 'serve', ...args]);
  let err = '';
  s.child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const end = Date.now() + 10_000;
  while (!/ on udp /.test(err) && !/ on tcp /.test(err)) {
    if (Date.now() > end || s.child.exitCode !== null) throw new Error(`rpc serve did not start: ${err}`);
    await sleep(20);
  }
  const port = Number(/(?:udp|tcp) 127\.0\.0\.1:([0-9]+)/.exec(err)![1]);
  return { ...s, port, log: () => err };
}

describe('ipcctl rpc serve', () => {
  it('rpcinfo -p lists it, rpcinfo -u/-t ping it, and SIGTERM takes it off the list', async () => {
    const prog = 0x20000001;
    unregister(prog); // a stale entry of an earlier, killed run
    const s = await startServe(['--prog', '0x20000001', '--vers', '1-2']);
    try {
      const regs = registered(prog);
      expect(regs.map((r) => `${r.vers} ${r.proto} ${r.port}`).sort()).toEqual([`1 tcp ${s.port}`, `1 udp ${s.port}`, `2 tcp ${s.port}`, `2 udp ${s.port}`]);
      expect(ipcctl(['rpc', 'ls']).stdout).toMatch(new RegExp(`^ +${prog} +2 +tcp +${s.port}$`, 'm'));
      for (const flag of ['-u', '-t']) {
        const r = run('rpcinfo', [flag, '127.0.0.1', String(prog)]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(`program ${prog} version 1 ready and waiting\nprogram ${prog} version 2 ready and waiting\n`);
      }
      const mine = ipcctl(['rpc', 'ping', '127.0.0.1', String(prog), '--tcp']);
      expect(mine.stdout).toMatch(/^program 536870913 version 1 ready and waiting \([0-9.]+ ms\)\nprogram 536870913 version 2 ready/);
    } finally {
      s.child.kill('SIGTERM');
    }
    const done = await s.done;
    expect(done.code).toBe(143);
    expect(registered(prog)).toEqual([]);
  });

  it('SIGINT also unregisters it', async () => {
    const prog = testProgram();
    const s = await startServe(['--prog', String(prog), '--udp']);
    expect(registered(prog).map((r) => r.proto)).toEqual(['udp']);
    s.child.kill('SIGINT');
    expect((await s.done).code).toBe(130);
    expect(registered(prog)).toEqual([]);
  });

  it('echo over UDP and TCP, --exec with the call in its environment, --no-register', async () => {
    const prog = testProgram();
    const s = await startServe([
      '--prog',
      String(prog),
      '--no-register',
      '-v',
      '--exec',
      `"${IPCCTL}" xdr encode "uint:$RPC_PROC" "uint:$RPC_VERS" "string:$RPC_CLIENT" "uint:$(wc -c)" "string:$RPC_AUTH:\${RPC_UID:-}"`,
    ]);
    try {
      expect(registered(prog)).toEqual([]);
      for (const proto of ['--udp', '--tcp']) {
        const echo = ipcctl([
          'rpc',
          'call',
          '127.0.0.1',
          String(prog),
          '1',
          '1',
          'int:-5',
          'string:h\u00e9',
          'uhyper:18446744073709551615',
          '--returns',
          'int',
          'string',
          'uhyper',
          '--port',
          String(s.port),
          proto,
        ]);
        expect(echo.code, echo.stderr).toBe(0);
        expect(echo.stdout).toBe('int:-5\nstring:h\u00e9\nuhyper:18446744073709551615\n');
      }
      const ex = ipcctl([
        'rpc',
        'call',
        '127.0.0.1',
        String(prog),
        '1',
        '7',
        'int:1',
        'int:2',
        'int:3',
        '--port',
        String(s.port),
        '--auth',
        'sys',
        '--uid',
        '4321',
        '--returns',
        'uint',
        'uint',
        'string',
        'uint',
        'string',
      ]);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout).toMatch(/^uint:7\nuint:1\nstring:127\.0\.0\.1:[0-9]+\nuint:12\nstring:AUTH_SYS:4321\n$/);
      // The server logs the call after it has sent the reply.
      for (let i = 0; i < 100 && !/procedure 7 AUTH_SYS/.test(s.log()); i++) await sleep(20);
      expect(s.log()).toMatch(/procedure 7 AUTH_SYS uid 4321: 12 argument bytes -> SUCCESS/);
    } finally {
      s.child.kill('SIGTERM');
      await s.done;
    }
  });

  it('every status it can send, each with its line and exit code', async () => {
    const prog = testProgram();
    const s = await startServe(['--prog', String(prog), '--vers', '1-2', '--no-register', '--args', 'int', 'string']);
    const a = await startServe(['--prog', String(prog), '--no-register', '--auth', 'sys', '--exec', 'exit 3']);
    const call = (port: number, ...args: string[]) => ipcctl(['rpc', 'call', '127.0.0.1', ...args, '--port', String(port)]);
    try {
      const P = String(prog);
      expectStatus(call(s.port, String(prog + 1), '1', '0'), 4, new RegExp(`PROG_UNAVAIL, the server does not offer program ${prog + 1}$`));
      expectStatus(call(s.port, P, '5', '0', '--tcp'), 4, new RegExp(`PROG_MISMATCH, program ${prog} has no version 5 \\(the server has versions 1 to 2\\)$`));
      expectStatus(call(s.port, P, '1', '9'), 4, new RegExp(`PROC_UNAVAIL, program ${prog} version 1 has no procedure 9$`));
      expectStatus(call(s.port, P, '1', '1', 'int:3'), 1, /GARBAGE_ARGS, the server could not decode the arguments of procedure 1$/);
      expect(call(s.port, P, '1', '1', 'int:3', 'string:ok', '--returns', 'int', 'string').stdout).toBe('int:3\nstring:ok\n');
      expectStatus(call(s.port, P, '1', '0', '--rpcvers', '3'), 1, /RPC_MISMATCH, the server speaks RPC versions 2 to 2$/);
      expectStatus(call(s.port, P, '1', '0', '--auth', '99'), 5, /AUTH_ERROR AUTH_REJECTEDCRED, /);
      expectStatus(call(a.port, P, '1', '0'), 5, /AUTH_ERROR AUTH_TOOWEAK, the server wants stronger authentication/);
      expect(call(a.port, P, '1', '0', '--auth', 'sys').code).toBe(0);
      expectStatus(call(a.port, P, '1', '2', '--auth', 'sys', '--tcp'), 1, /SYSTEM_ERR, the server failed to run procedure 2$/);
    } finally {
      s.child.kill('SIGTERM');
      a.child.kill('SIGTERM');
      await Promise.all([s.done, a.done]);
    }
  });

  it('a result too large for a datagram is SYSTEM_ERR over UDP, whole over TCP, and the server goes on', async () => {
    const prog = testProgram();
    const s = await startServe(['--prog', String(prog), '--no-register', '--exec', 'head -c 70000 /dev/zero']);
    const call = (...args: string[]) => ipcctl(['rpc', 'call', '127.0.0.1', String(prog), '1', ...args, '--port', String(s.port)]);
    try {
      expectStatus(call('2', '--udp'), 1, /SYSTEM_ERR, the server failed to run procedure 2$/);
      const tcp = call('2', '--tcp', '--raw');
      expect(tcp.code, tcp.stderr).toBe(0);
      expect(tcp.out.length).toBe(70000);
      expect(call('1', 'int:5', '--udp', '--returns', 'int').stdout).toBe('int:5\n');
    } finally {
      s.child.kill('SIGTERM');
      await s.done;
    }
  });

  it('--json: serve prints listening and call lines, call and ping one document each', async () => {
    const prog = testProgram();
    const s = ipcctlAsync(['--json', 'rpc', 'serve', '--prog', String(prog), '--no-register', '--udp']);
    let out = '';
    s.child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 500 && !out.includes('\n'); i++) await sleep(20);
      const listening = JSON.parse(out.split('\n')[0]!);
      expect(listening).toMatchObject({ event: 'listening', protocol: 'udp', address: '127.0.0.1', program: prog, versions: [1], registered: false });
      const port = String(listening.port);
      const c = ipcctl([
        '--json',
        'rpc',
        'call',
        '127.0.0.1',
        String(prog),
        '1',
        '1',
        'uhyper:18446744073709551615',
        '--port',
        port,
        '--returns',
        'uhyper',
        '--count',
        '3',
      ]);
      expect(c.code, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout)).toMatchObject({
        program: prog,
        version: 1,
        procedure: 1,
        protocol: 'udp',
        port: Number(port),
        calls: 3,
        results: [{ type: 'uhyper', value: '18446744073709551615' }],
      });
      const p = ipcctl(['--json', 'rpc', 'ping', '127.0.0.1', String(prog), '--port', port]);
      const doc = JSON.parse(p.stdout);
      expect(doc.versions).toHaveLength(1);
      expect(doc.versions[0]).toMatchObject({ version: 1, ok: true });
      for (let i = 0; i < 100 && out.trim().split('\n').length < 6; i++) await sleep(20);
      const calls = out
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l));
      expect(calls.filter((e) => e.procedure === 1)).toHaveLength(3);
      expect(calls[0]).toMatchObject({
        event: 'call',
        protocol: 'udp',
        program: prog,
        version: 1,
        procedure: 1,
        auth: 'AUTH_NONE',
        arg_bytes: 8,
        status: 'SUCCESS',
        result_bytes: 8,
      });
    } finally {
      s.child.kill('SIGTERM');
      await s.done;
    }
  });

  it('serves TCP clients at the same time: one idle connection does not hold up another', async () => {
    const prog = testProgram();
    const s = await startServe(['--prog', String(prog), '--no-register', '--tcp']);
    const idle: Socket = tcpConnect(s.port, '127.0.0.1');
    try {
      await new Promise((r) => idle.once('connect', r));
      idle.write(Buffer.from([0x80, 0, 0, 40])); // half a record: the server waits for the rest of it
      const r = ipcctl([
        'rpc',
        'call',
        '127.0.0.1',
        String(prog),
        '1',
        '1',
        'string:second',
        '--tcp',
        '--port',
        String(s.port),
        '--returns',
        'string',
        '--timeout',
        '5s',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('string:second\n');
    } finally {
      idle.destroy();
      s.child.kill('SIGTERM');
      await s.done;
    }
  });
});

/** A successful reply carrying one uint, as bytes. */
function replyBytes(xid: number, value: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32BE(xid, 0);
  b.writeUInt32BE(1, 4); // REPLY
  b.writeUInt32BE(0, 8); // MSG_ACCEPTED
  b.writeUInt32BE(0, 12); // verifier AUTH_NONE
  b.writeUInt32BE(0, 16); // empty body
  b.writeUInt32BE(0, 20); // SUCCESS
  b.writeUInt32BE(value, 24);
  return b;
}

describe('transports, against responders that misbehave on purpose', () => {
  it('UDP: a dropped request is sent again, a reply with the wrong XID is ignored, the right one taken', async () => {
    const sock = createSocket('udp4');
    let requests = 0;
    sock.on('message', (msg, from) => {
      requests++;
      if (requests === 1) return; // dropped
      const xid = msg.readUInt32BE(0);
      sock.send(replyBytes((xid + 1) >>> 0, 666), from.port, from.address);
      sock.send(replyBytes(xid, 7), from.port, from.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const c = ipcctlAsync([
        'rpc',
        'call',
        '127.0.0.1',
        '0x20000002',
        '1',
        '1',
        '--port',
        String(sock.address().port),
        '--retry',
        '200ms',
        '-v',
        '--returns',
        'uint',
      ]);
      const r = await c.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('uint:7\n');
      expect(requests).toBe(2);
      expect(r.stderr).toMatch(/sending again \(retransmission 1\)/);
      expect(r.stderr).toMatch(/ignored a message with XID 0x[0-9a-f]{8}, not ours/);
    } finally {
      sock.close();
    }
  });

  it('TCP: a reply in many fragments is put back together', async () => {
    const server = createServer((c) => {
      let got = Buffer.alloc(0);
      c.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (got.length < 4 || got.length < 4 + (got.readUInt32BE(0) & 0x7fffffff)) return;
        const xid = got.readUInt32BE(4);
        const head = replyBytes(xid, 0).subarray(0, 24);
        const text = Buffer.from('fragmented reply, put back together');
        const len = Buffer.alloc(4);
        len.writeUInt32BE(text.length);
        const pad = Buffer.alloc((4 - (text.length % 4)) % 4);
        const msg = Buffer.concat([head, len, text, pad]);
        // Fragments of 5 bytes (not even word-aligned), each written on its own.
        for (let at = 0; at < msg.length; at += 5) {
          const part = msg.subarray(at, at + 5);
          const h = Buffer.alloc(4);
          h.writeUInt32BE(((at + 5 >= msg.length ? 0x80000000 : 0) | part.length) >>> 0);
          c.write(Buffer.concat([h, part]));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await ipcctlAsync(['rpc', 'call', '127.0.0.1', '0x20000002', '1', '1', '--tcp', '--port', String(port), '--returns', 'string']).done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('string:fragmented reply, put back together\n');
    } finally {
      server.close();
    }
  });

  it('a UDP port that answers random bytes: ignored, then exit 124 in one line', async () => {
    const sock = createSocket('udp4');
    sock.on('message', (_m, from) => {
      for (let i = 0; i < 3; i++) sock.send(Buffer.from(Array.from({ length: 3 + i * 20 }, () => Math.floor(Math.random() * 256))), from.port, from.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const r = await ipcctlAsync([
        'rpc',
        'call',
        '127.0.0.1',
        '100000',
        '2',
        '0',
        '--port',
        String(sock.address().port),
        '--timeout',
        '800ms',
        '--retry',
        '200ms',
      ]).done;
      expectStatus(r, 124, /^ipcctl: rpc call udp 127\.0\.0\.1:[0-9]+: no reply within 800ms \([0-9]+ tries\)$/);
    } finally {
      sock.close();
    }
  });

  it('a TCP port that answers garbage: one line, exit 1, no hang', async () => {
    const server = createServer((c) => c.end(Buffer.from('ffffffff0000000000', 'hex')));
    const closer = createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await ipcctlAsync(['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--tcp', '--port', String(port)]).done;
      expectStatus(r, 1, /a record of more than [0-9]+ bytes \(not an RPC peer\?\)$/);
      const c = await ipcctlAsync(['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--tcp', '--port', String((closer.address() as { port: number }).port)])
        .done;
      expectStatus(c, 1, /the server closed the connection before replying$/);
    } finally {
      server.close();
      closer.close();
    }
  });

  it('a reply with our XID that is malformed: the offset, exit 1', async () => {
    const sock = createSocket('udp4');
    sock.on('message', (m, from) => sock.send(Buffer.concat([m.subarray(0, 4), Buffer.from('000000010000000700000000', 'hex')]), from.port, from.address));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const r = await ipcctlAsync(['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--port', String(sock.address().port)]).done;
      expectStatus(r, 1, /malformed reply at byte 8: reply_stat 7 is not MSG_ACCEPTED or MSG_DENIED$/);
    } finally {
      sock.close();
    }
  });

  it('nothing on the port (UDP): ECONNREFUSED at once, exit 1', () => {
    expectStatus(ipcctl(['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--port', '9']), 1, /ECONNREFUSED/);
  });
});

describe('without a portmapper (a network namespace of its own)', () => {
  it('says so and how to start one; --port still works', () => {
    const r = run('unshare', [
      '--net',
      'sh',
      '-c',
      `ip link set lo up
"$0" rpc ls; echo "ls=$?"
"$0" rpc call 127.0.0.1 100000 2 0; echo "call=$?"
"$0" rpc serve --prog 0x20000003 --udp; echo "serve=$?"
"$0" rpc serve --prog 0x20000003 --no-register --udp --port 7000 --timeout 5s 2>/dev/null & sleep 1.2
"$0" rpc call 127.0.0.1 0x20000003 1 1 string:direct --port 7000 --returns string; echo "direct=$?"
kill %1`,
      IPCCTL,
    ]);
    expect(r.stdout).toMatch(/^ls=1$/m);
    expect(r.stdout).toMatch(/^call=1$/m);
    expect(r.stdout).toMatch(/^serve=1$/m);
    expect(r.stdout).toMatch(/^string:direct\ndirect=0$/m);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      "ipcctl: rpc ls: portmapper at 127.0.0.1:111: ECONNREFUSED, no portmapper is running (start one as root with 'rpcbind -w -f', or give --port)",
    );
    expect(lines[1]).toMatch(/^ipcctl: rpc call: portmapper at 127\.0\.0\.1:111: ECONNREFUSED, no portmapper is running/);
    expect(lines[2]).toMatch(/^ipcctl: rpc serve: portmapper at 127\.0\.0\.1:111: ECONNREFUSED, no portmapper is running/);
  });
});

describe('rpc bad input', () => {
  badInputCases([
    ['a host name', ['rpc', 'ping', 'example.com', '100000'], 2, /invalid address 'example\.com': numeric addresses only/],
    ['an unknown program name', ['rpc', 'call', '127.0.0.1', 'nosuchprog', '1', '0'], 2, /unknown RPC program 'nosuchprog'/],
    ['a program out of range', ['rpc', 'call', '127.0.0.1', '4294967296', '1', '0'], 2, /invalid program '4294967296'/],
    ['a negative version', ['rpc', 'call', '127.0.0.1', '100000', '-1', '0'], 2, /unknown option|invalid version/],
    ['a non-numeric procedure', ['rpc', 'call', '127.0.0.1', '100000', '2', 'x'], 2, /invalid procedure 'x'/],
    ['a bad argument', ['rpc', 'call', '127.0.0.1', '100000', '2', '0', 'int:x'], 2, /invalid int 'x'/],
    ['a bad --returns type', ['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--returns', 'long'], 2, /unknown XDR type 'long'/],
    ['--udp and --tcp', ['rpc', 'ping', '127.0.0.1', '100000', '--udp', '--tcp'], 2, /give --udp or --tcp, not both/],
    ['--uid without --auth sys', ['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--uid', '5'], 2, /need --auth sys/],
    ['a bad --auth', ['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--auth', 'kerberos'], 2, /invalid --auth 'kerberos'/],
    [
      '17 groups',
      ['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--auth', 'sys', '--gids', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17'],
      2,
      /at most 16 groups/,
    ],
    ['a port of 0', ['rpc', 'call', '127.0.0.1', '100000', '2', '0', '--port', '0'], 2, /invalid port '0'/],
    ['a bad timeout', ['rpc', 'ping', '127.0.0.1', '100000', '--timeout', 'soon'], 2, /invalid duration 'soon'/],
    ['serve without --prog', ['rpc', 'serve'], 2, /required option '--prog/],
    ['serve with a bad --vers', ['rpc', 'serve', '--prog', '0x20000004', '--vers', '3-1'], 2, /invalid --vers '3-1'/],
    [
      'results that do not decode as --returns',
      ['rpc', 'call', '127.0.0.1', 'portmapper', '2', '3', 'uint:100000', 'uint:2', 'uint:17', 'uint:0', '--returns', 'hyper'],
      1,
      /the results do not decode as --returns hyper: at byte 0: truncated/,
    ],
  ]);
});

describe('rpc does not load ffi-rs for help', () => {
  it('rpc call --help', () => {
    // LD_DEBUG=files: the dynamic loader names every library it loads (ffi-rs is one).
    const r = ipcctl(['rpc', 'call', '--help'], { env: { LD_DEBUG: 'files' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/file=libc\.so/);
    expect(r.stderr).not.toMatch(/ffi-rs/);
  });
});
