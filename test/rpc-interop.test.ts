// ipcctl and C programs that rpcgen and gcc build from a .x file (libtirpc):
// ipcctl calls the rpcgen server with arguments and results of many XDR
// types over UDP and TCP, and the rpcgen client calls `ipcctl rpc serve`.
// The server's own statuses (GARBAGE_ARGS, PROC_UNAVAIL, PROG_MISMATCH,
// SYSTEM_ERR for a reply too large for UDP) are provoked for real.
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipcctl, ipcctlAsync, run, sleep } from './helpers/run.js';
import { buildRpcgen, registered, type Rpcgen, startRpcgenServer, testProgram, unregister, useRpcbind } from './helpers/rpc.js';

useRpcbind();

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-rpcgen-'));
let g: Rpcgen;
let server: ChildProcess | undefined;

beforeAll(async () => {
  g = buildRpcgen(dir, testProgram());
  server = await startRpcgenServer(g);
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await gone;
  }
  if (g) unregister(g.prog); // rpcgen's server does not unregister when killed
  rmSync(dir, { recursive: true, force: true });
});

const call = (...args: string[]) => ipcctl(['rpc', 'call', '127.0.0.1', String(g.prog), '1', ...args]);

describe('ipcctl calls an rpcgen server', () => {
  for (const proto of ['--udp', '--tcp']) {
    it(`adds two ints and concatenates two strings (${proto})`, () => {
      const add = call('2', 'int:-7', 'int:50', '--returns', 'int', proto);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toBe('int:43\n');
      const edge = call('2', 'int:2147483647', 'int:1', '--returns', 'int', proto);
      expect(edge.stdout).toBe('int:-2147483648\n'); // C's int wraps, as the server computes it
      const cat = call('3', 'string:h\u00e9llo, ', 'string:world', '--returns', 'string', proto);
      expect(cat.code, cat.stderr).toBe(0);
      expect(cat.stdout).toBe('string:h\u00e9llo, world\n');
      const empty = call('3', 'string:', 'string:', '--returns', 'string', proto);
      expect(empty.stdout).toBe('string:\n');
    });

    it(`round-trips a struct of every XDR type through the C server (${proto})`, () => {
      const r = call(
        '5',
        'hyper:-9223372036854775808',
        'uhyper:18446744073709551615',
        'double:-1.25',
        'float:0.75',
        'bool:false',
        'opaque[3]:0a0b0c',
        'int[]:1,-2,2147483647',
        'string:abc',
        '--returns',
        'hyper',
        'uhyper',
        'double',
        'float',
        'bool',
        'opaque[3]',
        'int[]',
        'string',
        proto,
      );
      expect(r.code, r.stderr).toBe(0);
      // mix_1_svc: h+1, u-1, d*2, f*2, !b, fx reversed, arr reversed, <s>.
      expect(r.stdout).toBe(
        [
          'hyper:-9223372036854775807',
          'uhyper:18446744073709551614',
          'double:-2.5',
          'float:1.5',
          'bool:true',
          'opaque[3]:0c0b0a',
          'int[]:2147483647,-2,1',
          'string:<abc>',
          '',
        ].join('\n'),
      );
    });
  }

  it('the C server decodes what xdr encode writes, and xdr decode reads what it answers', () => {
    const args = ipcctl(['xdr', 'encode', 'string:from', 'string:\u00a0xdr']);
    const r = ipcctl(['rpc', 'call', '127.0.0.1', String(g.prog), '1', '3', '--raw', ...hexArgs(args.out)]);
    expect(r.code, r.stderr).toBe(0);
    const d = ipcctl(['xdr', 'decode', 'string'], { input: r.out });
    expect(d.stdout).toBe('string:from\u00a0xdr\n');
  });

  it('a reply of 200000 bytes over TCP (libtirpc writes it in several fragments) is whole', () => {
    const r = call('4', 'int:200000', '--tcp', '--raw');
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.length).toBe(4 + 200000);
    expect(r.out.readUInt32BE(0)).toBe(200000);
    const body = r.out.subarray(4);
    for (let i = 0; i < body.length; i += 9973) expect(body[i]).toBe(i % 251);
  });

  it('the statuses the C server sends', () => {
    const one = (r: ReturnType<typeof call>, code: number, line: RegExp) => {
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr.trim()).toMatch(line);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    };
    one(call('2', 'int:1', '--tcp'), 1, /^ipcctl: rpc call: GARBAGE_ARGS, the server could not decode the arguments of procedure 2$/);
    one(call('3', 'uint:4000000'), 1, /GARBAGE_ARGS/);
    one(call('42'), 4, /PROC_UNAVAIL, program \d+ version 1 has no procedure 42$/);
    one(
      ipcctl(['rpc', 'call', '127.0.0.1', String(g.prog), '7', '0', '--port', String(registered(g.prog).find((x) => x.proto === 'udp')!.port)]),
      4,
      /PROG_MISMATCH, program \d+ has no version 7 \(the server has versions 1 to 1\)$/,
    );
    // svc_dg cannot send a reply larger than its buffer and answers SYSTEM_ERR instead.
    one(call('4', 'int:60000', '--udp'), 1, /SYSTEM_ERR, the server failed to run procedure 4$/);
  });

  it('rpc ping and rpcinfo agree on it', () => {
    for (const [flag, peer] of [
      ['--udp', '-u'],
      ['--tcp', '-t'],
    ]) {
      const mine = ipcctl(['rpc', 'ping', '127.0.0.1', String(g.prog), flag!]);
      const theirs = run('rpcinfo', [peer!, '127.0.0.1', String(g.prog)]);
      expect(mine.code, mine.stderr).toBe(0);
      expect(mine.stdout.replace(/ \([0-9.]+ ms\)/g, '')).toBe(theirs.stdout);
    }
  });
});

function runAsync(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

/** Bytes as uint/opaque[4] arguments, so that raw XDR can be passed through rpc call unchanged. */
function hexArgs(b: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 4) out.push(`opaque[4]:${b.subarray(i, i + 4).toString('hex')}`);
  return out;
}

describe('the rpcgen client calls ipcctl rpc serve', () => {
  it('echo over UDP and TCP, registered with the portmapper, gone after SIGTERM', async () => {
    const prog = testProgram();
    const s = ipcctlAsync(['rpc', 'serve', '--prog', String(prog), '-v']);
    let err = '';
    s.child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      for (let i = 0; i < 500 && registered(prog).length < 2; i++) await sleep(20);
      expect(
        registered(prog)
          .map((r) => r.proto)
          .sort(),
      ).toEqual(['tcp', 'udp']);
      for (const proto of ['udp', 'tcp']) {
        const r = run(g.client, ['127.0.0.1', String(prog), proto, 'echo', `hello over ${proto} \u00e9`]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(`hello over ${proto} \u00e9\n`);
      }
      // Its NULL procedure, 2000 times on one client handle. Not spawnSync: the
      // server's -v lines must keep flowing into this process meanwhile.
      const n = await runAsync(g.client, ['127.0.0.1', String(prog), 'tcp', 'null', '2000']);
      expect(n.code, n.stderr).toBe(0);
      // Procedure 2 is not there without --exec: the C client's stub says so.
      const add = run(g.client, ['127.0.0.1', String(prog), 'udp', 'add', '1', '2']);
      expect(add.code).toBe(1);
      expect(add.stderr).toMatch(/Procedure unavailable/);
    } finally {
      s.child.kill('SIGTERM');
    }
    await s.done;
    expect(err).toMatch(/udp 127\.0\.0\.1:\d+ xid 0x[0-9a-f]{8} program \d+ version 1 procedure 1 AUTH_NONE: \d+ argument bytes -> SUCCESS/);
    expect(registered(prog)).toEqual([]);
  });

  it('with --exec, the C client adds through a shell command', async () => {
    const prog = testProgram();
    // ADD(pair): the two ints come on stdin as XDR; the sum goes back as XDR.
    const s = ipcctlAsync([
      'rpc',
      'serve',
      '--prog',
      String(prog),
      '--udp',
      '--exec',
      `set -- $("${process.cwd()}/bin/ipcctl" xdr decode int int | cut -d: -f2); "${process.cwd()}/bin/ipcctl" xdr encode int:$(($1 + $2))`,
    ]);
    try {
      for (let i = 0; i < 500 && registered(prog).length < 1; i++) await sleep(20);
      const r = run(g.client, ['127.0.0.1', String(prog), 'udp', 'add', '40', '2']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('42\n');
    } finally {
      s.child.kill('SIGTERM');
      await s.done;
    }
  });
});
