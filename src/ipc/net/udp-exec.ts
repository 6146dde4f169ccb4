// `udp listen --exec CMD`: every datagram runs CMD with the datagram on its
// stdin; what CMD writes to stdout goes back to the sender as the reply (one
// datagram per 65507 bytes). Up to MAX_RUNNING children at once; beyond that
// datagrams wait in the kernel's queue, taken only when a child is free,
// so none is taken and then dropped.
import { IoBuffer } from '../../native/io-buffer.js';
import { POLLIN } from '../../native/poll.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import * as fdio from '../../native/fd.js';
import { AGAIN } from '../../native/net/socket.js';
import { childPipe } from '../../native/spawn.js';
import { formatAddress } from './address.js';
import { type Pollable, Reactor } from './reactor.js';
import { rethrowSocketError } from './sockerr.js';
import { Child, type ExitStatus, stopChildren } from './children.js';
import { Launcher, peerOf } from './launcher.js';
import type { Program } from './program.js';
import type { Group } from './multicast.js';
import { bindDatagram } from './datagram.js';

export interface UdpExecOptions {
  op: string;
  address: SockAddr;
  reuseaddr?: boolean;
  group?: Group;
  count?: number;
  idleMs?: number;
  program: Program;
  onListening?: (local: SockAddr) => void;
  onStderr?: (peer: SockAddr, line: string) => void;
  onExit?: (n: number, peer: SockAddr, pid: number, s: ExitStatus) => void;
  onReply?: (n: number, peer: SockAddr, size: number) => void;
}

const MAX_RUNNING = 64;
const MAX_REPLY = 65507;

class Job implements Pollable {
  private outR: number;
  private readonly chunks: Buffer[] = [];
  private outDone = false;
  child: Child | null = null;
  done = false;

  constructor(
    readonly n: number,
    readonly peer: SockAddr,
    data: Buffer,
    private readonly mem: IoBuffer,
    opts: UdpExecOptions,
    private readonly onStarted: (j: Job) => void,
    private readonly onDone: (j: Job, reply: Buffer | null) => void,
    launcher: Launcher,
  ) {
    const [inR, inW] = childPipe('write');
    const [outR, outW] = childPipe('read');
    this.outR = outR;
    try {
      // A datagram (<= 64 KiB) fits the pipe: written whole before the child starts.
      mem.load(data, 0);
      if (data.length > 0) fdio.write(inW, mem, 0, data.length);
    } finally {
      sock.close(inW);
    }
    Child.start(
      launcher,
      opts.program,
      peerOf(peer),
      { stdin: inR, stdout: outW },
      (line) => opts.onStderr?.(peer, line),
      (s) => {
        opts.onExit?.(n, peer, this.child!.pid, s);
        this.check();
      },
      (e, child) => {
        sock.close(inR);
        sock.close(outW);
        if (e !== null || !child) {
          // No process for it (EAGAIN): no reply, as if the program had failed.
          sock.close(this.outR);
          this.outR = -1;
          this.done = true;
          this.onDone(this, null);
          return;
        }
        this.child = child;
        this.onStarted(this);
      },
    );
  }

  interests(): Array<[number, number]> {
    return this.outR >= 0 ? [[this.outR, POLLIN]] : [];
  }

  ready(): void {
    for (;;) {
      const n = fdio.read(this.outR, this.mem, 0, this.mem.size);
      if (n === AGAIN) return;
      if (n === 0) {
        sock.close(this.outR);
        this.outR = -1;
        this.outDone = true;
        return this.check();
      }
      this.chunks.push(this.mem.copyOut(0, n));
    }
  }

  private check(): void {
    if (this.done || !this.outDone || !this.child || this.child.running) return;
    this.done = true;
    this.child.release();
    this.onDone(this, Buffer.concat(this.chunks));
  }
}

export async function listenExec(opts: UdpExecOptions): Promise<{ received: number }> {
  const where = formatAddress(opts.address);
  const { fd, local } = bindDatagram(opts);
  opts.onListening?.(local);
  const reactor = new Reactor();
  const launcher = new Launcher(reactor);
  const mem = new IoBuffer(65536);
  const jobs = new Set<Job>();
  const limit = opts.count ?? Infinity;
  let received = 0;
  let finished = 0;
  const reply = (j: Job, data: Buffer | null) => {
    reactor.remove(j);
    if (j.child) reactor.remove(j.child);
    jobs.delete(j);
    finished++;
    reactor.touch();
    if (data === null) return;
    for (let at = 0; at < data.length; at += MAX_REPLY) {
      const part = data.subarray(at, at + MAX_REPLY);
      mem.load(part, 0);
      // A reply the socket cannot take now is dropped, as a UDP server's would be.
      try {
        sock.sendTo(fd, mem, 0, part.length, j.peer);
      } catch {
        /* the sender is gone (ECONNREFUSED on loopback): nobody to answer */
      }
    }
    opts.onReply?.(j.n, j.peer, data.length);
  };
  reactor.add({
    interests: () => (received < limit && jobs.size < MAX_RUNNING ? [[fd, POLLIN]] : []),
    ready: () => {
      while (received < limit && jobs.size < MAX_RUNNING) {
        const r = sock.recvFrom(fd, mem, 0, mem.size);
        if (!r) return;
        received++;
        reactor.touch();
        const j = new Job(received, r.from, mem.copyOut(0, r.size), mem, opts, (started) => reactor.add(started.child!), reply, launcher);
        jobs.add(j);
        reactor.add(j);
      }
    },
  });
  try {
    await reactor.run({ what: `${opts.op} ${where}`, idleMs: opts.idleMs, done: () => finished >= limit });
  } catch (e) {
    rethrowSocketError(e, opts.op, where, opts.address);
  } finally {
    await launcher.settle();
    await stopChildren([...jobs].flatMap((j) => (j.child ? [j.child] : [])));
    sock.close(fd);
    mem.free();
  }
  return { received };
}
