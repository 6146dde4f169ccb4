// `serve --broker` / `--chat`: publish/subscribe fan-out (ncat --broker).
// Every chunk one client sends goes to every other client connected at that
// moment, in the order it arrived. --chat frames by lines and prefixes each
// with its sender, so lines of different senders never mix.
// A slow subscriber never holds up the others: each client has its own
// bounded queue, and a client whose queue would overflow is dropped (and
// the server says so) instead of being waited for.
// A client that ends its sending (EOF) leaves; a subscriber that only
// listens keeps its side open (`tcp connect --no-shutdown`).
import { IpcError } from '../../errors.js';
import { NativeMemory } from '../../native/libc.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import type { SockAddr } from '../../native/sockaddr.js';
import * as sock from '../../native/socket.js';
import { AGAIN } from '../../native/socket.js';
import { formatAddress } from '../address.js';
import { type Pollable, Reactor } from '../reactor.js';
import { relabel } from '../sockerr.js';
import { listenOn } from '../stream.js';

export interface BrokerEvents {
  listening?(local: SockAddr): void;
  join?(conn: number, peer: SockAddr): void;
  /** A message (a chunk, or a line with --chat) from `conn`, handed to `recipients` clients. */
  message?(conn: number, size: number, recipients: number, data: Buffer): void;
  leave?(conn: number, peer: SockAddr, info: { reason: 'closed' | 'dropped' | 'error' | 'server stopped'; detail?: string; queued?: number }): void;
}

export interface BrokerOptions {
  op: string;
  address: SockAddr;
  backlog: number;
  reuseaddr: boolean;
  maxConns?: number;
  idleMs?: number;
  /** Frame by lines and prefix each with its sender. */
  chat: boolean;
  /** Bytes a client may have waiting for it before it is dropped. */
  maxQueue: number;
  events: BrokerEvents;
  afterBind?: (local: SockAddr) => void;
}

const READ_SIZE = 64 << 10;

class Client {
  readonly queue: Buffer[] = [];
  queued = 0;
  /** Bytes of queue[0] already sent. */
  headSent = 0;
  /** --chat: the part of a line not yet ended. */
  partial: Buffer = Buffer.alloc(0);
  gone = false;
  readonly label: string;
  constructor(
    readonly id: number,
    readonly fd: number,
    readonly peer: SockAddr,
  ) {
    this.label = peer.family === 'unix' ? `conn${id}` : formatAddress(peer);
  }
}

export async function serveBroker(opts: BrokerOptions): Promise<void> {
  const { fd: lfd, local } = listenOn({ ...opts, afterBind: opts.afterBind });
  const where = formatAddress(local);
  opts.events.listening?.(local);
  const reactor = new Reactor();
  const clients = new Map<number, Client>();
  const mem = new NativeMemory(READ_SIZE);
  const out = new NativeMemory(READ_SIZE);
  let served = 0;
  const max = opts.maxConns ?? Infinity;

  const leave = (c: Client, reason: 'closed' | 'dropped' | 'error' | 'server stopped', detail?: string) => {
    if (c.gone) return;
    c.gone = true;
    clients.delete(c.id);
    reactor.remove(pollers.get(c)!);
    pollers.delete(c);
    sock.close(c.fd);
    opts.events.leave?.(c.id, c.peer, { reason, detail, ...(reason === 'dropped' ? { queued: c.queued } : {}) });
  };

  /** Send what is queued for `c` until the socket is full. */
  const flush = (c: Client) => {
    while (c.queue.length > 0 && !c.gone) {
      const head = c.queue[0]!;
      const len = Math.min(head.length - c.headSent, out.size);
      head.copy(out.buf, 0, c.headSent, c.headSent + len);
      let n: number;
      try {
        n = sock.send(c.fd, out, 0, len);
      } catch (e) {
        return leave(c, 'error', e instanceof IpcError ? e.code : String(e));
      }
      if (n === AGAIN) return;
      reactor.touch();
      c.headSent += n;
      c.queued -= n;
      if (c.headSent === head.length) {
        c.queue.shift();
        c.headSent = 0;
      }
    }
  };

  const publish = (from: Client, data: Buffer) => {
    let recipients = 0;
    for (const c of clients.values()) {
      if (c === from || c.gone) continue;
      if (c.queued + data.length > opts.maxQueue) {
        leave(c, 'dropped', `more than ${opts.maxQueue} bytes waiting: it reads too slowly`);
        continue;
      }
      c.queue.push(data);
      c.queued += data.length;
      recipients++;
      if (c.queue.length === 1) flush(c);
    }
    opts.events.message?.(from.id, data.length, recipients, data);
  };

  const received = (c: Client, chunk: Buffer) => {
    if (!opts.chat) return publish(c, Buffer.from(chunk));
    let data = c.partial.length > 0 ? Buffer.concat([c.partial, chunk]) : chunk;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10)) {
      publish(c, Buffer.from(`<${c.label}> ` + data.toString('latin1', 0, nl + 1), 'latin1'));
      data = data.subarray(nl + 1);
    }
    c.partial = Buffer.from(data);
  };

  const readFrom = (c: Client) => {
    for (let rounds = 0; rounds < 16 && !c.gone; rounds++) {
      let n: number;
      try {
        n = sock.recv(c.fd, mem, 0, mem.size);
      } catch (e) {
        return leave(c, 'error', e instanceof IpcError ? e.code : String(e));
      }
      if (n === AGAIN) return;
      reactor.touch();
      if (n === 0) {
        // A last line without its newline is still a message.
        if (opts.chat && c.partial.length > 0) received(c, Buffer.from('\n'));
        return leave(c, 'closed');
      }
      received(c, mem.buf.subarray(0, n));
    }
  };

  const pollers = new Map<Client, Pollable>();
  const listener: Pollable = {
    interests: () => (clients.size < max ? [[lfd, POLLIN]] : []),
    ready: () => {
      while (clients.size < max) {
        let a: { fd: number; peer: SockAddr } | null;
        try {
          a = sock.accept(lfd);
        } catch (e) {
          if (e instanceof IpcError && (e.code === 'EMFILE' || e.code === 'ENFILE')) return;
          return relabel(e, opts.op, where, local);
        }
        if (!a) return;
        const c = new Client(++served, a.fd, a.peer);
        clients.set(c.id, c);
        const p: Pollable = {
          interests: () => (c.queue.length > 0 ? [[c.fd, POLLIN | POLLOUT]] : [[c.fd, POLLIN]]),
          ready: (_i, revents) => {
            if (revents & POLLOUT) flush(c);
            if (!c.gone) readFrom(c);
          },
        };
        pollers.set(c, p);
        reactor.add(p);
        reactor.touch();
        opts.events.join?.(c.id, c.peer);
      }
    },
  };
  reactor.add(listener);
  try {
    await reactor.run({ what: `${opts.op} ${where}`, idleMs: opts.idleMs, done: () => false });
  } catch (e) {
    relabel(e, opts.op, where, local);
  } finally {
    sock.close(lfd);
    for (const c of [...clients.values()]) leave(c, 'server stopped');
    mem.free();
    out.free();
  }
}
