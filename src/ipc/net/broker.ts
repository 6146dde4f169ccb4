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
import { IoBuffer } from '../../native/io-buffer.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { AGAIN } from '../../native/net/socket.js';
import { formatAddress } from './address.js';
import { type Pollable, Reactor } from './reactor.js';
import { rethrowSocketError } from './sockerr.js';
import { acceptClient, listenOn, type ListenerOptions } from './stream.js';

export interface BrokerEvents {
  listening?(local: SockAddr): void;
  join?(conn: number, peer: SockAddr): void;
  /** A message (a chunk, or a line with --chat) from `conn`, handed to `recipients` clients. */
  message?(conn: number, size: number, recipients: number, data: Buffer): void;
  leave?(conn: number, peer: SockAddr, info: { reason: 'closed' | 'dropped' | 'error' | 'server stopped'; detail?: string; queued?: number }): void;
  /** -x: the bytes `conn` sent us, as read (only valid during the call). */
  received?(conn: number, data: Buffer): void;
  /** -x: the bytes we sent to `conn`, as each send took them (only valid during the call). */
  sent?(conn: number, data: Buffer): void;
}

export interface BrokerOptions extends ListenerOptions {
  /** Frame by lines and prefix each with its sender. */
  chat: boolean;
  /** Bytes a client may have waiting for it before it is dropped. */
  maxQueue: number;
  events: BrokerEvents;
}

const READ_SIZE = 256 << 10;

/**
 * Bytes some clients could not take at once, kept in native memory so that
 * each is later sent straight from it; freed when the last client that
 * holds it has sent it or left.
 */
class Chunk {
  readonly mem: IoBuffer;
  refs = 0;
  constructor(
    src: IoBuffer,
    off: number,
    readonly length: number,
  ) {
    this.mem = new IoBuffer(length);
    this.mem.load(src.view(off, off + length));
  }
  release(): void {
    if (--this.refs === 0) this.mem.free();
  }
}

/** A client's place in a chunk: what is left for it starts at `from`. */
interface Queued {
  chunk: Chunk;
  from: number;
}

class Client {
  readonly queue: Queued[] = [];
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
  const { fd: lfd, local } = listenOn(opts);
  const where = formatAddress(local);
  opts.events.listening?.(local);
  const reactor = new Reactor();
  const clients = new Map<number, Client>();
  const mem = new IoBuffer(READ_SIZE);
  const out = new IoBuffer(READ_SIZE);
  let served = 0;
  const max = opts.maxConns ?? Infinity;

  const leave = (c: Client, reason: 'closed' | 'dropped' | 'error' | 'server stopped', detail?: string) => {
    if (c.gone) return;
    c.gone = true;
    clients.delete(c.id);
    reactor.remove(pollers.get(c)!);
    pollers.delete(c);
    sock.close(c.fd);
    for (const q of c.queue) q.chunk.release();
    c.queue.length = 0;
    opts.events.leave?.(c.id, c.peer, { reason, detail, ...(reason === 'dropped' ? { queued: c.queued } : {}) });
  };

  /** Send what is queued for `c` until the socket is full. */
  const flush = (c: Client) => {
    while (c.queue.length > 0 && !c.gone) {
      const head = c.queue[0]!;
      const at = head.from + c.headSent;
      let n: number;
      try {
        n = sock.send(c.fd, head.chunk.mem, at, head.chunk.length - at);
      } catch (e) {
        return leave(c, 'error', e instanceof IpcError ? e.code : String(e));
      }
      if (n === AGAIN) return;
      reactor.touch();
      opts.events.sent?.(c.id, head.chunk.mem.view(at, at + n));
      c.headSent += n;
      c.queued -= n;
      if (head.from + c.headSent === head.chunk.length) {
        c.queue.shift();
        head.chunk.release();
        c.headSent = 0;
      }
    }
  };

  /**
   * Hand `len` bytes at `mem[off]` to every client but `from`. A client with
   * nothing queued gets them straight from native memory (one send, no
   * copy); only what it cannot take now is copied into its queue.
   */
  const publish = (from: Client, src: IoBuffer, off: number, len: number): number => {
    let recipients = 0;
    let copy: Chunk | null = null;
    for (const c of clients.values()) {
      if (c === from || c.gone) continue;
      recipients++;
      let sent = 0;
      if (c.queue.length === 0) {
        try {
          const n = sock.send(c.fd, src, off, len);
          sent = n === AGAIN ? 0 : n;
          if (sent > 0) opts.events.sent?.(c.id, src.view(off, off + sent));
        } catch (e) {
          leave(c, 'error', e instanceof IpcError ? e.code : String(e));
          continue;
        }
        if (sent === len) continue;
      }
      const rest = len - sent;
      if (c.queued + rest > opts.maxQueue) {
        leave(c, 'dropped', `more than ${opts.maxQueue} bytes waiting: it reads too slowly`);
        recipients--;
        continue;
      }
      copy ??= new Chunk(src, off, len);
      copy.refs++;
      c.queue.push({ chunk: copy, from: sent });
      c.queued += rest;
    }
    if (recipients > 0) reactor.touch();
    return recipients;
  };

  const received = (c: Client, n: number) => {
    if (!opts.chat) {
      const recipients = publish(c, mem, 0, n);
      opts.events.message?.(c.id, n, recipients, mem.view(0, n));
      return;
    }
    const chunk = mem.view(0, n);
    let data = c.partial.length > 0 ? Buffer.concat([c.partial, chunk]) : chunk;
    const framed: Buffer[] = [];
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10)) {
      framed.push(Buffer.from(`<${c.label}> ` + data.toString('latin1', 0, nl + 1), 'latin1'));
      data = data.subarray(nl + 1);
    }
    c.partial = Buffer.from(data);
    if (framed.length === 0) return;
    // The lines of one read go out together, in pieces of the send buffer.
    const all = framed.length === 1 ? framed[0]! : Buffer.concat(framed);
    let recipients = 0;
    for (let at = 0; at < all.length; at += out.size) {
      const len = Math.min(out.size, all.length - at);
      out.load(all.subarray(at, at + len));
      recipients = publish(c, out, 0, len);
    }
    if (opts.events.message) for (const f of framed) opts.events.message(c.id, f.length, recipients, f);
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
        if (opts.chat && c.partial.length > 0) {
          mem.view()[0] = 10;
          received(c, 1);
        }
        return leave(c, 'closed');
      }
      opts.events.received?.(c.id, mem.view(0, n));
      received(c, n);
    }
  };

  const pollers = new Map<Client, Pollable>();
  const listener: Pollable = {
    interests: () => (clients.size < max ? [[lfd, POLLIN]] : []),
    ready: () => {
      while (clients.size < max) {
        const a = acceptClient(lfd, opts.op, where, local);
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
    rethrowSocketError(e, opts.op, where, local);
  } finally {
    sock.close(lfd);
    for (const c of [...clients.values()]) leave(c, 'server stopped');
    mem.free();
    out.free();
  }
}
