// Loopback round-trips for `ipcctl selftest`: a TCP connection, a UDP
// datagram and a UNIX stream connection, each carrying bytes that must come
// back identical. Nothing here blocks: every wait is a short poll.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoBuffer } from '../../native/io-buffer.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import { familyNumber, type SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { AGAIN } from '../../native/net/socket.js';
import { formatAddress } from './address.js';
import { waitReady } from './reactor.js';

const WAIT_MS = 2000;

async function sendAll(fd: number, mem: IoBuffer, len: number): Promise<void> {
  for (let done = 0; done < len;) {
    const n = sock.send(fd, mem, done, len - done);
    if (n === AGAIN) await waitReady(fd, POLLOUT, 'selftest send', WAIT_MS);
    else done += n;
  }
}

async function recvExactly(fd: number, mem: IoBuffer, len: number): Promise<Buffer> {
  let got = 0;
  while (got < len) {
    const n = sock.recv(fd, mem, got, len - got);
    if (n === AGAIN) await waitReady(fd, POLLIN, 'selftest recv', WAIT_MS);
    else if (n === 0) break;
    else got += n;
  }
  return mem.copyOut(0, got);
}

/** Listen, connect, accept, send one way, echo back, compare. */
async function streamRoundTrip(listenAt: SockAddr): Promise<string> {
  const payload = Buffer.from(`selftest ${process.pid} \u00e9\u0000\u00ff`.repeat(64));
  const fds: number[] = [];
  const mem = new IoBuffer(payload.length);
  try {
    const lfd = sock.socket(familyNumber(listenAt), sock.SOCK_STREAM);
    fds.push(lfd);
    sock.bindTo(lfd, listenAt);
    sock.listen(lfd, 1);
    const local = sock.localAddress(lfd);
    const cfd = sock.socket(familyNumber(listenAt), sock.SOCK_STREAM);
    fds.push(cfd);
    if (!sock.connectStart(cfd, local)) {
      await waitReady(cfd, POLLOUT, 'selftest connect', WAIT_MS);
      sock.connectResult(cfd);
    }
    let a = sock.accept(lfd);
    if (!a) {
      await waitReady(lfd, POLLIN, 'selftest accept', WAIT_MS);
      a = sock.accept(lfd);
    }
    if (!a) throw new Error('no connection to accept');
    fds.push(a.fd);
    mem.load(payload);
    await sendAll(cfd, mem, payload.length);
    mem.view().fill(0);
    const there = await recvExactly(a.fd, mem, payload.length);
    mem.load(there);
    await sendAll(a.fd, mem, there.length);
    mem.view().fill(0);
    const back = await recvExactly(cfd, mem, payload.length);
    if (!back.equals(payload)) throw new Error('bytes came back different');
    return `${formatAddress(local)}: ${payload.length} bytes there and back`;
  } finally {
    for (const fd of fds) sock.close(fd);
    mem.free();
  }
}

export function tcpRoundTrip(): Promise<string> {
  return streamRoundTrip({ family: 'inet', address: '127.0.0.1', port: 0 });
}

export async function unixRoundTrip(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ipcctl-selftest-'));
  try {
    return await streamRoundTrip({ family: 'unix', path: join(dir, 's.sock') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function udpRoundTrip(): Promise<string> {
  const fds: number[] = [];
  const sizes = [170, 230];
  const mem = new IoBuffer(1024);
  try {
    const rfd = sock.socket(familyNumber({ family: 'inet', address: '', port: 0 }), sock.SOCK_DGRAM);
    fds.push(rfd);
    sock.bindTo(rfd, { family: 'inet', address: '127.0.0.1', port: 0 });
    const to = sock.localAddress(rfd);
    const sfd = sock.socket(familyNumber(to), sock.SOCK_DGRAM);
    fds.push(sfd);
    for (const [i, size] of sizes.entries()) {
      mem.view().fill(65 + i, 0, size);
      sock.sendTo(sfd, mem, 0, size, to);
    }
    // Boundaries kept: two sends are two receives of exactly those sizes.
    for (const [i, size] of sizes.entries()) {
      let r = sock.recvFrom(rfd, mem, 0, mem.size);
      if (!r) {
        await waitReady(rfd, POLLIN, 'selftest udp', WAIT_MS);
        r = sock.recvFrom(rfd, mem, 0, mem.size);
      }
      if (!r || r.size !== size || mem.view()[0] !== 65 + i || mem.view()[size - 1] !== 65 + i) throw new Error(`datagram ${i + 1} came back different`);
    }
    return `${formatAddress(to)}: datagrams of ${sizes.join(' and ')} bytes kept apart`;
  } finally {
    for (const fd of fds) sock.close(fd);
    mem.free();
  }
}
