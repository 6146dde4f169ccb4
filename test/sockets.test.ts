// tcp, udp and unix against real peers (socat, nc from netcat-openbsd) on
// loopback. Ports: servers run by ipcctl choose their own (--port 0, read
// back from "listening on"); peers that need a port on their command line
// get a random one and another when it is taken (helpers/net.ts). No port is
// handed out after it was released. Every process started here is killed by
// pid afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listeningPort, onRandomPort } from './helpers/net.js';
import { backgroundProcesses, type Proc } from './helpers/proc.js';
import { IPCCTL, ipcctl, run } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';

const { dir, start, runAsync, startServer } = backgroundProcesses('sock');

/** A peer started on a random port, retried on another when the port is taken. */
function peerOn(proto: 'tcp' | 'udp', launch: (port: string) => [string, string[]]): Promise<Proc & { port: number }> {
  return onRandomPort(proto, (port) => {
    const [cmd, args] = launch(String(port));
    return start(cmd, args);
  });
}

const MiB = randomBytes(1 << 20);
const mibFile = join(dir, 'mib.bin');
writeFileSync(mibFile, MiB);

describe('tcp with socat and nc as peers: 1 MiB of random bytes arrives byte-exact', () => {
  it('nc -> ipcctl tcp serve', async () => {
    const srv = await startServer(['tcp', 'serve']);
    const r = await runAsync('nc', ['-N', '127.0.0.1', String(srv.port)], MiB);
    expect(r.code).toBe(0);
    expect(await srv.done).toBe(0);
    expect(srv.out().equals(MiB)).toBe(true);
  });

  it('socat -> ipcctl tcp serve', async () => {
    const srv = await startServer(['tcp', 'serve']);
    const r = await runAsync('socat', ['-u', `OPEN:${mibFile}`, `TCP:127.0.0.1:${srv.port}`]);
    expect(r.code).toBe(0);
    expect(await srv.done).toBe(0);
    expect(srv.out().equals(MiB)).toBe(true);
  });

  it('ipcctl tcp connect -> nc -l', async () => {
    const peer = await peerOn('tcp', (port) => ['nc', ['-l', '127.0.0.1', port]]);
    const r = ipcctl(['tcp', 'connect', '127.0.0.1', String(peer.port)], { input: MiB });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await peer.done;
    expect(peer.out().equals(MiB)).toBe(true);
  });

  it('ipcctl tcp connect -> socat TCP-LISTEN, stdin from a file (sendfile) and from a pipe (splice)', async () => {
    for (const viaFile of [true, false]) {
      const peer = await peerOn('tcp', (port) => ['socat', ['-u', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, '-']]);
      const port = peer.port;
      const r = viaFile
        ? run('bash', ['-c', `${IPCCTL} tcp connect 127.0.0.1 ${port} < ${mibFile}`])
        : run('bash', ['-c', `cat ${mibFile} | ${IPCCTL} tcp connect 127.0.0.1 ${port}`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await peer.done;
      expect(peer.out().equals(MiB)).toBe(true);
    }
  });

  it('ipcctl tcp serve --echo returns the bytes to socat', async () => {
    const srv = await startServer(['tcp', 'serve', '--echo']);
    const r = await runAsync('socat', ['-t', '5', '-', `TCP:127.0.0.1:${srv.port},shut-down`], MiB);
    expect(r.code).toBe(0);
    expect(r.out.equals(MiB)).toBe(true);
    expect(await srv.done).toBe(0);
  });
});

describe('tcp behaviour', () => {
  it('serve without --bind listens on 127.0.0.1 only', async () => {
    const srv = await startServer(['tcp', 'serve', '--timeout', '10s']);
    const ss = run('ss', ['-ltnH', `sport = :${srv.port}`])
      .stdout.trim()
      .split('\n');
    expect(ss).toHaveLength(1);
    // State, Recv-Q, Send-Q, Local Address:Port, Peer Address:Port
    expect(ss[0]!.split(/\s+/)[3]).toBe(`127.0.0.1:${srv.port}`);
  });

  it('serve --bind ::1 serves IPv6 and reports the peer in --json', async () => {
    const p = start(IPCCTL, ['--json', 'tcp', 'serve', '--bind', '::1', '--port', '0']);
    const port = await waitFor(
      'the listening event',
      () => {
        const m = /"port":(\d+)/.exec(p.out().toString());
        return m ? Number(m[1]) : undefined;
      },
      { detail: p.err },
    );
    const r = ipcctl(['tcp', 'connect', '::1', String(port), '--send', 'over six']);
    expect(r.code).toBe(0);
    expect(await p.done).toBe(0);
    const events = p.jsonLines();
    expect(events[0]).toEqual({ event: 'listening', address: '::1', port });
    expect(events[1]).toMatchObject({ event: 'accept', conn: 1, address: '::1' });
    expect(
      events
        .filter((e) => e.event === 'data')
        .map((e) => e.text)
        .join(''),
    ).toBe('over six');
    expect(events.at(-1)).toMatchObject({ event: 'close', conn: 1, received: 8 });
  });

  it('connect prints a reply that comes one second after its EOF', async () => {
    // -t 3: socat itself would give the reply only 0.5 s after the client's EOF.
    const peer = await peerOn('tcp', (port) => [
      'socat',
      ['-t', '3', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'SYSTEM:cat >/dev/null; sleep 1; echo late-reply'],
    ]);
    const r = ipcctl(['tcp', 'connect', '127.0.0.1', String(peer.port)], { input: 'request\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('late-reply\n');
  });

  it('--keep-open --echo serves 50 concurrent clients, each echoed exactly', async () => {
    const srv = await startServer(['tcp', 'serve', '--keep-open', '--echo']);
    const clients = Array.from({ length: 50 }, (_, i) => {
      const payload = randomBytes(16384 + i * 997);
      return new Promise<boolean>((resolve, reject) => {
        const s = net.connect(srv.port, '127.0.0.1');
        const got: Buffer[] = [];
        s.on('data', (d) => got.push(d));
        s.on('error', reject);
        s.on('end', () => resolve(Buffer.concat(got).equals(payload)));
        s.end(payload);
      });
    });
    const results = await Promise.all(clients);
    expect(results.every(Boolean)).toBe(true);
    srv.child.kill('SIGINT');
    expect(await srv.done).toBe(130);
  });

  it('-z checks that a port opens', async () => {
    const srv = await startServer(['tcp', 'serve']);
    expect(ipcctl(['tcp', 'connect', '-z', '127.0.0.1', String(srv.port)]).code).toBe(0);
    expect(await srv.done).toBe(0);
  });

  it('exit codes: refused 1, idle timeout 124, usage 2, address in use 1', async () => {
    // A port nothing listens on for sure: any port in a network namespace of its own.
    const refused = run('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" tcp connect 127.0.0.1 9', IPCCTL], { env: { NO_COLOR: '1' } });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toBe(`ipcctl: tcp connect 127.0.0.1:9: ECONNREFUSED, connection refused\n`);

    // A server that accepts, never answers and never closes.
    const silent = net.createServer({ allowHalfOpen: true }, () => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const t = await runAsync(IPCCTL, ['tcp', 'connect', '--timeout', '300ms', '127.0.0.1', String((silent.address() as net.AddressInfo).port)]);
    silent.close();
    expect(t.code).toBe(124);
    expect(t.stderr).toMatch(/^ipcctl: tcp connect 127\.0\.0\.1:\d+: timed out after 300ms\n$/);

    for (const args of [
      ['tcp', 'connect', '127.0.0.1', 'http'],
      ['tcp', 'serve'],
      ['tcp', 'connect', 'example.com', '80'],
      ['tcp', 'serve', '--port', '70000'],
    ]) {
      const u = ipcctl(args);
      expect(u.code, args.join(' ')).toBe(2);
      expect(u.stderr).toMatch(/^ipcctl: /);
    }

    const srv = await startServer(['tcp', 'serve', '--timeout', '10s']);
    const inUse = ipcctl(['tcp', 'serve', '--port', String(srv.port)]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`tcp serve 127.0.0.1:${srv.port}: EADDRINUSE, port ${srv.port} is already in use`);
    expect(inUse.stderr).toContain('--reuseaddr');
  });
});

describe('udp with socat and nc as peers', () => {
  it('socat -> ipcctl udp listen: 1 MiB as 18 datagrams of up to 60000 bytes, concatenated exactly', async () => {
    const srv = await startServer(['udp', 'listen', '-n', '18'], { verbose: false });
    const r = run('socat', ['-u', '-b', '60000', `OPEN:${mibFile}`, `UDP-SENDTO:127.0.0.1:${srv.port}`]);
    expect(r.code).toBe(0);
    expect(await srv.done).toBe(0);
    expect(srv.out().equals(MiB)).toBe(true);
  });

  it('nc -u -> ipcctl udp listen: every datagram nc sends, concatenated exactly', async () => {
    // No idle --timeout to end it: on a loaded machine nc may start, or pause
    // between two datagrams, later than any such timeout. The listener runs
    // until all of nc's bytes are out, then Ctrl-C ends it.
    const srv = await startServer(['udp', 'listen'], { verbose: false });
    // nc sends each read of its stdin as one datagram (no retry with a second
    // nc: a retry would send everything twice).
    const r = run('nc', ['-u', '-w', '1', '-q', '0', '127.0.0.1', String(srv.port)], { input: MiB });
    expect(r.code, r.stderr).toBe(0);
    await waitFor("all of 1 MiB on udp listen's stdout", () => srv.out().length >= MiB.length, { detail: () => `${srv.out().length} bytes; ${srv.err()}` });
    srv.child.kill('SIGINT');
    expect(await srv.done).toBe(130);
    expect(srv.out().equals(MiB)).toBe(true);
  });

  it('ipcctl udp send --chunk 60000 -> socat UDP-RECV: 1 MiB as 18 datagrams', async () => {
    // A receive buffer that holds the whole burst: UDP drops what does not fit.
    const peer = await peerOn('udp', (port) => ['socat', ['-u', '-b', '65536', `UDP-RECV:${port},bind=127.0.0.1,rcvbuf=4194304`, '-']]);
    const r = ipcctl(['udp', 'send', '127.0.0.1', String(peer.port), '--chunk', '60000', '-v'], { input: MiB });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('18 datagrams');
    await waitFor('all of 1 MiB at socat', () => peer.out().length >= MiB.length, { detail: () => `${peer.out().length} bytes` });
    expect(peer.out().equals(MiB)).toBe(true);
  });

  it('ipcctl udp send -> nc -u -l: a 16000-byte binary datagram, byte-exact', async () => {
    // nc reads datagrams into a 16 KiB buffer (longer ones are cut) and locks
    // onto its first sender; a burst of several datagrams to it was seen to
    // lose one now and then on a loaded machine (UDP may drop, and nc gives
    // no way to enlarge its buffer), so this direction sends one datagram.
    // Bursts of many datagrams are checked against socat above.
    const peer = await peerOn('udp', (port) => ['nc', ['-u', '-l', '127.0.0.1', port]]);
    const one = MiB.subarray(0, 16000);
    expect(ipcctl(['udp', 'send', '127.0.0.1', String(peer.port)], { input: one }).code).toBe(0);
    await waitFor('the datagram at nc', () => peer.out().length >= one.length, { detail: () => `${peer.out().length} bytes` });
    expect(peer.out().equals(one)).toBe(true);
  });

  it('keeps boundaries, hears every sender, and --echo answers each', async () => {
    const srv = await startServer(['--json', 'udp', 'listen', '-n', '4', '--echo'], { verbose: false });
    const port = srv.port;
    expect(ipcctl(['udp', 'send', '127.0.0.1', String(port), 'x'.repeat(170)]).code).toBe(0);
    expect(ipcctl(['udp', 'send', '127.0.0.1', String(port), 'y'.repeat(230)]).code).toBe(0);
    expect(ipcctl(['udp', 'send', '127.0.0.1', String(port), '--count', '2'], { input: Buffer.from([0xff, 0, 1]) }).code).toBe(0);
    expect(await srv.done).toBe(0);
    const lines = srv.jsonLines();
    expect(lines.map((l) => l.size)).toEqual([170, 230, 3, 3]);
    expect(lines[2]).toMatchObject({ address: '127.0.0.1', base64: Buffer.from([0xff, 0, 1]).toString('base64') });
    expect(new Set(lines.map((l) => l.port)).size).toBe(3);
    const echo = await startServer(['udp', 'listen', '-n', '1', '--echo'], { verbose: false });
    const echoed = await runAsync('socat', ['-t', '1', '-', `UDP:127.0.0.1:${echo.port}`], 'ping');
    expect(echoed.out.toString()).toBe('ping');
  });

  it('listen --timeout exits 124 when nothing comes', () => {
    const r = ipcctl(['udp', 'listen', '--port', '0', '--timeout', '200ms']);
    expect(r.code).toBe(124);
    const port = listeningPort(r.stderr);
    // The timeout line names the address asked for (127.0.0.1:0), not the port bound: reported to the lead.
    expect(r.stderr).toMatch(
      new RegExp(`^ipcctl: udp listen: listening on 127\\.0\\.0\\.1:${port}\nipcctl: udp listen 127\\.0\\.0\\.1:\\d+: timed out after 200ms\n$`),
    );
  });
});

describe('unix with socat and nc as peers', () => {
  it('nc -U -> ipcctl unix serve, and ipcctl unix connect -> socat UNIX-LISTEN: 1 MiB exact', async () => {
    const path = join(dir, 'a.sock');
    const srv = start(IPCCTL, ['unix', 'serve', path]);
    await waitFor(`${path} to appear`, () => existsSync(path));
    const r = await runAsync('nc', ['-N', '-U', path], MiB);
    expect(r.code).toBe(0);
    expect(await srv.done).toBe(0);
    expect(srv.out().equals(MiB)).toBe(true);
    expect(existsSync(path)).toBe(false); // removed at exit

    const path2 = join(dir, 'b.sock');
    const peer = start('socat', ['-u', `UNIX-LISTEN:${path2}`, '-']);
    await waitFor(`${path2} to appear`, () => existsSync(path2));
    const c = ipcctl(['unix', 'connect', path2], { input: MiB });
    expect(c.code).toBe(0);
    await peer.done;
    expect(peer.out().equals(MiB)).toBe(true);
  });

  it('socat -> ipcctl unix serve --echo, and ipcctl unix connect -> nc -lU', async () => {
    const path = join(dir, 'c.sock');
    const srv = start(IPCCTL, ['unix', 'serve', path, '--echo']);
    await waitFor(`${path} to appear`, () => existsSync(path));
    const r = await runAsync('socat', ['-t', '5', '-', `UNIX-CONNECT:${path},shut-down`], MiB);
    expect(r.out.equals(MiB)).toBe(true);
    expect(await srv.done).toBe(0);

    const path2 = join(dir, 'd.sock');
    const peer = start('nc', ['-l', '-U', path2]);
    await waitFor(`${path2} to appear`, () => existsSync(path2));
    const c = await runAsync(IPCCTL, ['unix', 'connect', path2, '--timeout', '2s'], MiB);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    await peer.done;
    expect(peer.out().equals(MiB)).toBe(true);
    rmSync(path2, { force: true });
  });

  it('--dgram keeps boundaries', async () => {
    const path = join(dir, 'g.sock');
    const srv = start(IPCCTL, ['--json', 'unix', 'serve', '--dgram', path, '-n', '2']);
    await waitFor(`${path} to appear`, () => existsSync(path));
    expect(ipcctl(['unix', 'connect', '--dgram', path, 'a'.repeat(170)]).code).toBe(0);
    expect(ipcctl(['unix', 'connect', '--dgram', path, 'b'.repeat(230)]).code).toBe(0);
    expect(await srv.done).toBe(0);
    expect(srv.jsonLines().map((l) => l.size)).toEqual([170, 230]);
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket file, refuses a live one, leaves other files alone, and cleans up on Ctrl-C', async () => {
    const path = join(dir, 'stale.sock');
    // A server killed with SIGKILL leaves its file behind.
    const dead = start('socat', [`UNIX-LISTEN:${path}`, '-']);
    await waitFor(`${path} to appear`, () => existsSync(path));
    dead.child.kill('SIGKILL');
    await dead.done;
    expect(existsSync(path)).toBe(true);

    const srv = start(IPCCTL, ['unix', 'serve', path, '-v']);
    await waitFor('the server to say it listens', () => srv.err().includes('listening'));
    const again = ipcctl(['unix', 'serve', path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('a server is listening on this socket');
    expect(srv.child.exitCode).toBe(null); // the probe did not take the live server's one client

    srv.child.kill('SIGINT');
    expect(await srv.done).toBe(130);
    expect(existsSync(path)).toBe(false);

    const plain = join(dir, 'plain.txt');
    writeFileSync(plain, 'keep me');
    const r = ipcctl(['unix', 'serve', plain]);
    expect(r.code).toBe(1);
    expect(readFileSync(plain, 'utf8')).toBe('keep me');

    const missing = ipcctl(['unix', 'connect', join(dir, 'nobody.sock')]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('ENOENT');
  });
});
