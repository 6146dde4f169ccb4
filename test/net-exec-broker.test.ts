// serve --exec/--sh, --broker/--chat, connect options and --hexdump, against
// the real kernel on loopback and real peers (socat, nc, ncat). Servers run
// by ipcctl use --port 0 and print their port; peers that need a fixed port
// get a random high one (retried on EADDRINUSE). Every process started here
// is killed by pid afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onRandomPort } from './helpers/net.js';
import { backgroundProcesses } from './helpers/proc.js';
import { IPCCTL, ipcctl, run } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';

const { dir, start, runAsync, startServer } = backgroundProcesses('net16');

/** waitFor with this file's default bound (its loads are large: 200 clients, 16 MiB fan-outs). */
async function until(what: string, f: () => boolean, ms = 15_000): Promise<void> {
  await waitFor(what, f, { timeoutMs: ms });
}

/** A TCP client in this process: sends `data`, half-closes, resolves with all it got. */
function exchange(port: number, data: Buffer | string, opts: { end?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    s.on('connect', () => {
      s.write(data);
      if (opts.end !== false) s.end();
    });
    s.on('data', (d) => got.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got)));
  });
}

/** Pids of the children of `pid` (all its threads), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

function state(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]!;
  } catch {
    return null;
  }
}

/** Whether process `pid` has an established TCP connection to 127.0.0.1:`port` (ss). */
function connectedTo(port: number, pid: number): boolean {
  return run('ss', ['-tnpH', 'state', 'established', `dport = :${port}`]).stdout.includes(`pid=${pid},`);
}

describe('serve --exec', () => {
  it('--exec cat: 200 concurrent clients x 100 lines, every reply exact, no zombie left', async () => {
    const srv = await startServer(['tcp', 'serve', '--exec', 'cat', '--keep-open']);
    const payload = (i: number) => Array.from({ length: 100 }, (_, n) => `client ${i} line ${n} ${'x'.repeat(n % 37)}\n`).join('');
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => exchange(srv.port, payload(i))));
    replies.forEach((r, i) => expect(r.toString(), `client ${i}`).toBe(payload(i)));
    expect(readFileSync(`/proc/${srv.child.pid}/maps`, 'utf8')).toContain('libipcctl-spawn.so');
    // Every child reaped: none left, none a zombie.
    await until('children reaped', () => childrenOf(srv.child.pid!).length === 0);
    srv.child.kill('SIGTERM');
    expect(await srv.done).toBe(143);
    expect(srv.err()).not.toMatch(/internal error|at .*\.js/);
  }, 60_000);

  it('without the C helper (IPCCTL_NO_C_HELPER=1, children spawned from a native thread each) the replies are the same', async () => {
    const srv = await startServer(['tcp', 'serve', '--exec', 'cat', '--keep-open'], { env: { IPCCTL_NO_C_HELPER: '1' } });
    const payload = (i: number) => `client ${i}\n`.repeat(50);
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => exchange(srv.port, payload(i))));
    replies.forEach((r, i) => expect(r.toString()).toBe(payload(i)));
    const maps = readFileSync(`/proc/${srv.child.pid}/maps`, 'utf8');
    expect(maps.includes('libipcctl-spawn.so')).toBe(false);
    await until('children reaped', () => childrenOf(srv.child.pid!).length === 0);
  });

  it('output larger than the socket buffers, read slowly: every byte arrives in order, with and without the C helper', async () => {
    // seq writes 23 MB far faster than this reader takes: the server's send meets a
    // full socket (EAGAIN), keeps the rest and stops reading the child until
    // there is room again.
    const want = Array.from({ length: 3_000_000 }, (_, i) => `${i + 1}\n`).join('');
    for (const env of [{}, { IPCCTL_NO_C_HELPER: '1' }]) {
      const srv = await startServer(['tcp', 'serve', '--sh', 'seq 1 3000000'], { env });
      const got = await new Promise<string>((resolve, reject) => {
        const s = net.connect(srv.port, '127.0.0.1');
        const parts: Buffer[] = [];
        s.on('data', (d) => {
          parts.push(d);
          // Take a pause every chunk: the kernel's buffers fill up behind us.
          s.pause();
          setTimeout(() => s.resume(), 2);
        });
        s.on('error', reject);
        s.on('end', () => resolve(Buffer.concat(parts).toString()));
      });
      expect(got.length, JSON.stringify(env)).toBe(want.length);
      expect(got === want, JSON.stringify(env)).toBe(true);
      expect(await srv.done).toBe(0);
      expect(srv.err()).toContain(`closed, ${want.length} bytes sent\n`);
    }
  }, 60_000);

  it('half-close both ways: the peer FIN is the child EOF; a child that exits early, or never reads, still answers without a reset', async () => {
    const early = await startServer(['tcp', 'serve', '--sh', 'head -n 1', '--keep-open']);
    expect((await exchange(early.port, 'one\ntwo\nthree\n')).toString()).toBe('one\n');
    const big = randomBytes(4 << 20);
    expect((await exchange(early.port, Buffer.concat([Buffer.from('first\n'), big]))).toString()).toBe('first\n');
    const deaf = await startServer(['tcp', 'serve', '--sh', 'echo never read', '--keep-open']);
    // 4 MiB the child never reads: the reply still arrives, the close is clean.
    expect((await exchange(deaf.port, big)).toString()).toBe('never read\n');
    const r = await runAsync('socat', ['-', `TCP:127.0.0.1:${deaf.port}`], big);
    expect(r.code).toBe(0);
    expect(r.out.toString()).toBe('never read\n');
    // The child's stdout EOF is our shutdown(SHUT_WR) while it still reads.
    const half = await startServer(['tcp', 'serve', '--sh', 'echo early; exec 1>&-; cat > /dev/null; echo done >&2']);
    const s = net.connect(half.port, '127.0.0.1');
    const got: Buffer[] = [];
    let ended = false;
    s.on('data', (d) => got.push(d));
    s.on('end', () => (ended = true));
    await until('the child output to end', () => ended);
    expect(Buffer.concat(got).toString()).toBe('early\n');
    s.end('more input\n');
    expect(await half.done).toBe(0);
    expect(half.err()).toMatch(/\[127\.0\.0\.1:\d+\] done\n/);
  }, 60_000);

  it('child stderr goes to the server stderr prefixed with the peer; -v logs the exit status; the peer is in the environment', async () => {
    const srv = await startServer(['tcp', 'serve', '--sh', 'echo "$IPCCTL_PEER_ADDR $IPCCTL_PEER_PORT"; echo oops >&2; exit 3']);
    const s = net.connect(srv.port, '127.0.0.1');
    let localPort = 0;
    const got: Buffer[] = [];
    s.on('connect', () => (localPort = s.localPort!));
    s.on('data', (d) => got.push(d));
    await new Promise((r) => s.on('close', r));
    expect(Buffer.concat(got).toString()).toBe(`127.0.0.1 ${localPort}\n`);
    expect(await srv.done).toBe(0);
    expect(srv.err()).toContain(`[127.0.0.1:${localPort}] oops\n`);
    expect(srv.err()).toMatch(/connection 1: echo .* \(pid \d+\) exited with status 3/);
  });

  it('--max-conns with --keep-open: at most N children at once, the others wait and are served', async () => {
    const srv = await startServer(['tcp', 'serve', '--sh', 'sleep 0.3; cat', '--keep-open', '--max-conns', '2']);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, childrenOf(srv.child.pid!).length)), 20);
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => exchange(srv.port, `c${i}\n`)));
    clearInterval(watch);
    replies.forEach((r, i) => expect(r.toString()).toBe(`c${i}\n`));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
  }, 30_000);

  it('at SIGTERM every child gets SIGTERM, one that ignores it SIGKILL after the grace; none is left', async () => {
    const srv = await startServer(['tcp', 'serve', '--sh', 'trap "" TERM; sleep 60', '--keep-open']);
    const clients = [net.connect(srv.port, '127.0.0.1'), net.connect(srv.port, '127.0.0.1'), net.connect(srv.port, '127.0.0.1')];
    clients.forEach((c) => c.on('error', () => {}));
    await until('3 children', () => childrenOf(srv.child.pid!).length === 3);
    const kids = childrenOf(srv.child.pid!);
    srv.child.kill('SIGTERM');
    expect(await srv.done).toBe(143);
    for (const k of kids) expect(state(k), `child ${k}`).toBeNull();
    clients.forEach((c) => c.destroy());
  }, 30_000);

  it('unix serve --exec, with ipcctl unix connect as the client', async () => {
    const path = join(dir, 'exec.sock');
    const srv = start(IPCCTL, ['unix', 'serve', path, '--exec', 'tr a-z A-Z', '-v']);
    await until('the socket file', () => existsSync(path));
    const r = ipcctl(['unix', 'connect', path], { input: 'hello unix\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('HELLO UNIX\n');
    expect(await srv.done).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('socat and nc as clients of --exec', async () => {
    const srv = await startServer(['tcp', 'serve', '--exec', 'cat', '--keep-open']);
    const data = randomBytes(256 << 10);
    const a = await runAsync('socat', ['-', `TCP:127.0.0.1:${srv.port}`], data);
    expect(a.code).toBe(0);
    expect(a.out.equals(data)).toBe(true);
    const b = await runAsync('nc', ['-N', '127.0.0.1', String(srv.port)], data);
    expect(b.code).toBe(0);
    expect(b.out.equals(data)).toBe(true);
  });

  it('bad --exec values: one line, exit 2, nothing listens', () => {
    for (const args of [
      ['--exec', ''],
      ['--exec', 'no-such-program-16'],
      ['--sh', ' '],
      ['--exec', 'cat', '--echo'],
      ['--exec', "cat 'open"],
    ]) {
      const r = ipcctl(['tcp', 'serve', '--port', '0', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ipcctl: /);
    }
  });
});

describe('udp listen --exec', () => {
  it('runs CMD per datagram and sends its stdout back to the sender', async () => {
    const srv = await startServer(['udp', 'listen', '--exec', 'tr a-z A-Z', '-n', '3']);
    const sock = dgram.createSocket('udp4');
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (const w of ['one', 'two', 'three']) sock.send(w, srv.port, '127.0.0.1');
    await until('3 replies', () => replies.length === 3);
    sock.close();
    expect(replies.sort()).toEqual(['ONE', 'THREE', 'TWO']);
    expect(await srv.done).toBe(0);
  });
});

describe('ipcctl as a client of socat and ncat', () => {
  it('ipcctl tcp connect -> socat TCP-LISTEN:P,fork EXEC:cat', async () => {
    const { port } = await onRandomPort('tcp', (p) => start('socat', [`TCP-LISTEN:${p},fork,reuseaddr`, 'EXEC:cat']));
    const data = randomBytes(300 << 10);
    for (let i = 0; i < 3; i++) {
      const r = ipcctl(['tcp', 'connect', '127.0.0.1', String(port)], { input: data });
      expect(r.code).toBe(0);
      expect(r.out.equals(data)).toBe(true);
    }
  });

  it('ipcctl tcp connect (subscriber and publisher) -> ncat --broker', async () => {
    const { port } = await onRandomPort('tcp', (p) => start('ncat', ['-l', '--broker', '127.0.0.1', String(p)]));
    const sub = start(IPCCTL, ['tcp', 'connect', '--no-shutdown', '127.0.0.1', String(port)]);
    // The subscriber's connection must be up before the publisher's: ncat
    // accepts them in that order and sends a message only to clients it has
    // accepted. (A fixed 0.5 s here was outlasted by a loaded machine.)
    await until('the subscriber connected to ncat', () => connectedTo(port, sub.child.pid!));
    const pub = ipcctl(['tcp', 'connect', '--send', 'hello subscribers\n', '127.0.0.1', String(port)], { timeout: 5000 });
    expect(pub.code).toBe(0);
    await until('the subscriber to get it', () => sub.out().toString() === 'hello subscribers\n');
  });
});

describe('serve --broker / --chat', () => {
  it('10 subscribers get every line of 3 publishers, each publisher in its order (--chat)', async () => {
    const srv = await startServer(['tcp', 'serve', '--chat']);
    const subs = Array.from({ length: 10 }, () => {
      const s = net.connect(srv.port, '127.0.0.1');
      const got: Buffer[] = [];
      s.on('data', (d) => got.push(d));
      return { s, text: () => Buffer.concat(got).toString() };
    });
    await until('10 joins', () => (srv.err().match(/joined/g) ?? []).length === 10);
    const N = 2000;
    const lines = (p: number) => Array.from({ length: N }, (_, i) => `pub${p} msg ${i}\n`).join('');
    const pubs = await Promise.all([0, 1, 2].map((p) => runAsync(IPCCTL, ['tcp', 'connect', '127.0.0.1', String(srv.port)], lines(p))));
    pubs.forEach((r) => expect(r.code).toBe(0));
    await until('every line at every subscriber', () => subs.every((s) => s.text().split('\n').length - 1 >= 3 * N));
    for (const sub of subs) {
      const got = sub.text().split('\n').slice(0, -1);
      expect(got).toHaveLength(3 * N);
      for (let p = 0; p < 3; p++) {
        const mine = got.filter((l) => l.includes(` pub${p} `)).map((l) => l.replace(/^<[^>]+> /, ''));
        expect(mine).toEqual(Array.from({ length: N }, (_, i) => `pub${p} msg ${i}`));
      }
      expect(got.every((l) => /^<127\.0\.0\.1:\d+> pub\d msg \d+$/.test(l))).toBe(true);
      sub.s.destroy();
    }
  }, 60_000);

  it('a stalled subscriber is dropped (and the server says so); the others still get everything', async () => {
    const srv = await startServer(['tcp', 'serve', '--broker', '--max-queue', '256K']);
    const stalled = net.connect(srv.port, '127.0.0.1');
    stalled.on('error', () => {});
    stalled.pause(); // never reads: its kernel buffers fill, then its queue at the server
    const live = Array.from({ length: 3 }, () => {
      const s = net.connect(srv.port, '127.0.0.1');
      const got: Buffer[] = [];
      let length = 0;
      s.on('data', (d: Buffer) => {
        got.push(d);
        length += d.length;
      });
      return { s, length: () => length, bytes: () => Buffer.concat(got) };
    });
    await until('4 joins', () => (srv.err().match(/joined/g) ?? []).length === 4);
    // The publisher goes in lockstep with the live subscribers: a piece is
    // written only when every live one has all before it. So a live
    // subscriber is never more than one piece behind, however loaded the
    // machine, and only the stalled one can overflow its queue. (An unpaced
    // publisher let a live subscriber descheduled for a moment fall 256 KiB
    // behind, and be dropped too, as the server should.)
    const PIECE = 128 << 10;
    const data = randomBytes(16 << 20);
    const pub = net.connect(srv.port, '127.0.0.1');
    await new Promise<void>((r, j) => pub.once('connect', r).once('error', j));
    await until('5 joins', () => (srv.err().match(/joined/g) ?? []).length === 5);
    for (let at = 0; at < data.length; at += PIECE) {
      const end = Math.min(at + PIECE, data.length);
      pub.write(data.subarray(at, end));
      await waitFor(`the live subscribers to have ${end} bytes`, () => live.every((l) => l.length() >= end), { timeoutMs: 30_000, everyMs: 2 });
    }
    await new Promise<void>((r) => pub.end(r));
    for (const l of live) {
      expect(l.bytes().equals(data)).toBe(true);
      l.s.destroy();
    }
    expect(srv.err()).toMatch(/client 1 \(127\.0\.0\.1:\d+\) dropped: more than 262144 bytes waiting/);
    stalled.destroy();
  }, 60_000);

  it('socat and nc as clients of --broker; --json logs joins, leaves and message sizes', async () => {
    const p = start(IPCCTL, ['--json', 'tcp', 'serve', '--broker', '--port', '0']);
    await until('listening', () => p.out().toString().includes('"listening"'));
    const port = JSON.parse(p.out().toString().split('\n')[0]!).port as number;
    const sub = start('socat', ['-u', `TCP:127.0.0.1:${port}`, '-']);
    await until(
      'the socat join',
      () =>
        (
          p
            .out()
            .toString()
            .match(/"join"/g) ?? []
        ).length === 1,
    );
    const r = await runAsync('nc', ['-N', '127.0.0.1', String(port)], 'from nc\n');
    expect(r.code).toBe(0);
    await until('socat to get it', () => sub.out().toString() === 'from nc\n');
    // nc's leave is logged when the broker reads its EOF, which may come after socat has the message.
    await until("nc's leave", () => p.out().toString().includes('"leave"'));
    const events = p.jsonLines();
    expect(events.filter((e) => e.event === 'join')).toHaveLength(2);
    expect(events.find((e) => e.event === 'message')).toMatchObject({ conn: 2, size: 8, recipients: 1 });
    expect(events.find((e) => e.event === 'leave')).toMatchObject({ conn: 2, reason: 'closed' });
  });
});

describe('broker -x', () => {
  it('dumps what each client sends and what it is sent, marked with the client, byte for byte as hexdump -C; --exec -x is refused in one line', async () => {
    const dumpFile = join(dir, 'broker-dump.txt');
    const srv = await startServer(['tcp', 'serve', '--broker', '-x', dumpFile]);
    const sub = start(IPCCTL, ['tcp', 'connect', '--no-shutdown', '127.0.0.1', String(srv.port)], '');
    await until('the subscriber joined', () => /client 1 joined/.test(srv.err()));
    const data = randomBytes(3000);
    const pub = await runAsync(IPCCTL, ['tcp', 'connect', '127.0.0.1', String(srv.port)], data);
    expect(pub.code, pub.stderr).toBe(0);
    await until('the subscriber to get it all', () => sub.out().length === data.length);
    expect(sub.out().equals(data)).toBe(true);
    srv.child.kill('SIGTERM');
    await srv.done;
    const streamFile = join(dir, 'broker-stream.bin');
    writeFileSync(streamFile, data);
    const total = { 'conn 2 received': 0, 'conn 1 sent': 0 } as Record<string, number>;
    for (const block of readFileSync(dumpFile, 'utf8')
      .split(/^(?=[<>] )/m)
      .filter(Boolean)) {
      const m = /^([<>]) (conn \d+): (\d+) bytes? (sent|received), offset (\d+)\n/.exec(block)!;
      expect(m, block.slice(0, 80)).not.toBeNull();
      expect(block.slice(m[0].length)).toBe(run('hexdump', ['-C', '-s', m[5]!, '-n', m[3]!, streamFile]).stdout);
      const key = `${m[2]} ${m[4]}`;
      expect(Object.keys(total)).toContain(key);
      total[key]! += Number(m[3]);
    }
    expect(total).toEqual({ 'conn 2 received': data.length, 'conn 1 sent': data.length });
    const r = ipcctl(['tcp', 'serve', '--port', '0', '--exec', 'cat', '-x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ipcctl: tcp serve: --hexdump does not apply to --exec[^\n]*\n$/);
  });
});

describe('connect options and errors', () => {
  it('refused, reset and idle timeout: one line each, exit 1, 1 and 124', async () => {
    // Refused for sure: no port listens in a network namespace of its own (a
    // port released here could be taken by another test before the connect).
    const refused = run('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" tcp connect 127.0.0.1 9', IPCCTL], { env: { NO_COLOR: '1' } });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/^ipcctl: tcp connect 127\.0\.0\.1:\d+: ECONNREFUSED, connection refused\n$/);

    const resetter = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', () => r()));
    const rport = (resetter.address() as net.AddressInfo).port;
    const reset = await runAsync(IPCCTL, ['tcp', 'connect', '--no-shutdown', '--send', 'x', '127.0.0.1', String(rport)]);
    expect(reset.code).toBe(1);
    expect(reset.stderr).toMatch(/^ipcctl: tcp connect 127\.0\.0\.1:\d+: ECONNRESET, connection reset by peer\n$/);

    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const sport = (silent.address() as net.AddressInfo).port;
    const idle = await runAsync(IPCCTL, ['tcp', 'connect', '--timeout', '300ms', '--no-shutdown', '127.0.0.1', String(sport)]);
    expect(idle.code).toBe(124);
    expect(idle.stderr).toMatch(/^ipcctl: tcp connect 127\.0\.0\.1:\d+: timed out after 300ms\n$/);
    resetter.close();
    silent.close();
  });

  it('--source-port and --source bind before connecting; --crlf sends CRLF line ends', async () => {
    let seen: { addr?: string; port?: number } = {};
    const srv = net.createServer((s) => {
      seen = { addr: s.remoteAddress, port: s.remotePort };
      s.pipe(s);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    // A random source port, another one if it is taken (EADDRINUSE, exit 1).
    let sp = 0;
    let r: Awaited<ReturnType<typeof runAsync>> = { code: null, out: Buffer.alloc(0), stderr: '' };
    for (let attempt = 0; attempt < 5; attempt++) {
      sp = 20000 + Math.floor(Math.random() * 12000);
      r = await runAsync(IPCCTL, ['tcp', 'connect', '--source', '127.0.0.1', '--source-port', String(sp), '--crlf', '127.0.0.1', String(port)], 'a\nb\r\nc\n');
      if (!r.stderr.includes('EADDRINUSE')) break;
    }
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.toString()).toBe('a\r\nb\r\nc\r\n');
    expect(seen).toEqual({ addr: '127.0.0.1', port: sp });
    srv.close();
  });

  it('unix connect --source PATH binds our end (the peer sees the name), and the file is removed afterwards; --source-port is refused', async () => {
    const srvPath = join(dir, 'peername.sock');
    const me = join(dir, 'me.sock');
    // A real peer: python3's AF_UNIX server answers with getpeername() of its client.
    const py = start('/usr/bin/python3', [
      '-c',
      [
        'import socket, sys',
        's = socket.socket(socket.AF_UNIX)',
        `s.bind(${JSON.stringify(srvPath)})`,
        's.listen(1)',
        'c, _ = s.accept()',
        'data = c.recv(100)',
        'c.sendall(("peer=%s got=%s" % (c.getpeername(), data.decode())).encode())',
        'c.close()',
      ].join('\n'),
    ]);
    try {
      await until('the python server', () => existsSync(srvPath));
      const r = await runAsync(IPCCTL, ['unix', 'connect', '--source', me, srvPath], 'hello');
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.toString()).toBe(`peer=${me} got=hello`);
      expect(existsSync(me)).toBe(false);
      expect(await py.done).toBe(0);
    } finally {
      rmSync(srvPath, { force: true });
    }
    // Nobody listens: the connect fails, and the bound file is still removed.
    const gone = await runAsync(IPCCTL, ['unix', 'connect', '--source', me, join(dir, 'nobody.sock')]);
    expect(gone.code).toBe(4);
    expect(existsSync(me)).toBe(false);
    const bad = await runAsync(IPCCTL, ['unix', 'connect', '--source-port', '4000', srvPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ipcctl: unix connect: --source-port is for TCP[^\n]*\n$/);
  });

  it('-x/--hexdump: each block is byte for byte what hexdump -C prints for those bytes', async () => {
    const srv = await startServer(['tcp', 'serve', '--echo']);
    const data = Buffer.concat([randomBytes(700), Buffer.alloc(100, 0x41), randomBytes(333)]);
    const dumpFile = join(dir, 'dump.txt');
    const r = ipcctl(['tcp', 'connect', '-x', dumpFile, '127.0.0.1', String(srv.port)], { input: data });
    expect(r.code).toBe(0);
    expect(r.out.equals(data)).toBe(true);
    const text = readFileSync(dumpFile, 'utf8');
    const blocks = text.split(/^(?=[<>] )/m).filter(Boolean);
    const total = { sent: 0, received: 0 };
    for (const block of blocks) {
      const m = /^([<>]) (\d+) bytes? (sent|received), offset (\d+)\n/.exec(block)!;
      expect(m, block.slice(0, 80)).not.toBeNull();
      const [len, off] = [Number(m[2]), Number(m[4])];
      expect(m[1] === '>' ? 'sent' : 'received').toBe(m[3]);
      const streamFile = join(dir, 'stream.bin');
      writeFileSync(streamFile, data);
      const want = run('hexdump', ['-C', '-s', String(off), '-n', String(len), streamFile]).stdout;
      expect(block.slice(m[0].length)).toBe(want);
      total[m[3] as 'sent' | 'received'] += len;
    }
    expect(total).toEqual({ sent: data.length, received: data.length });
  });

  it('-x on a server and on udp listen: the same blocks, marked with the connection or the sender', async () => {
    const dumpFile = join(dir, 'serve-dump.txt');
    const srv = await startServer(['tcp', 'serve', '--echo', '-x', dumpFile]);
    const data = randomBytes(2000);
    expect((await exchange(srv.port, data)).equals(data)).toBe(true);
    expect(await srv.done).toBe(0);
    const streamFile = join(dir, 'serve-stream.bin');
    writeFileSync(streamFile, data);
    const total = { sent: 0, received: 0 };
    for (const block of readFileSync(dumpFile, 'utf8')
      .split(/^(?=[<>] )/m)
      .filter(Boolean)) {
      const m = /^([<>]) conn 1: (\d+) bytes? (sent|received), offset (\d+)\n/.exec(block)!;
      expect(m, block.slice(0, 80)).not.toBeNull();
      expect(block.slice(m[0].length)).toBe(run('hexdump', ['-C', '-s', m[4]!, '-n', m[2]!, streamFile]).stdout);
      total[m[3] as 'sent' | 'received'] += Number(m[2]);
    }
    expect(total).toEqual({ sent: data.length, received: data.length });

    const udpDump = join(dir, 'udp-dump.txt');
    const l = await startServer(['udp', 'listen', '-n', '1', '-x', udpDump]);
    const gram = randomBytes(100);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.send(gram, l.port, '127.0.0.1', () => r()));
    expect(await l.done).toBe(0);
    sock.close();
    expect(l.out().equals(gram)).toBe(true);
    const text = readFileSync(udpDump, 'utf8');
    const m = /^< 127\.0\.0\.1:\d+: 100 bytes received, offset 0\n/.exec(text)!;
    expect(m).not.toBeNull();
    const gramFile = join(dir, 'gram.bin');
    writeFileSync(gramFile, gram);
    expect(text.slice(m[0].length)).toBe(run('hexdump', ['-C', gramFile]).stdout);
  });
});
