// `rpc serve`: one program on a UDP socket and a TCP listener (record
// marking, many clients at once), all in one poll loop; registered with the
// local portmapper (after clearing a stale entry, as rpcgen's servers do)
// and unregistered when it ends, also on SIGINT and SIGTERM.
import { IpcError, OperationError } from '../../errors.js';
import { IoBuffer } from '../../native/io-buffer.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { AGAIN } from '../../native/net/socket.js';
import { formatAddress } from '../net/address.js';
import { type Pollable, Reactor } from '../net/reactor.js';
import { rethrowSocketError } from '../net/sockerr.js';
import { openSocket } from '../net/stream.js';
import type { Proto } from './client.js';
import { type Answer, type CallLog, dispatch, type DispatchOptions } from './dispatch.js';
import { encodeReply } from './message.js';
import { IPPROTO_TCP, IPPROTO_UDP, type Mapping, set, unset } from './portmap.js';
import { frame, RecordReader } from './record.js';

export interface Endpoint {
  proto: Proto;
  local: SockAddr;
}

export interface ServeOptions extends DispatchOptions {
  op: string;
  /** Address and port to bind (port 0: any; UDP and TCP then try to share one). */
  bind: SockAddr;
  udp: boolean;
  tcp: boolean;
  register: boolean;
  /** Stop after this long without a call (exit 124); none by default. */
  idleMs?: number;
  /** Stop (normally) once this returns true; checked between polls. */
  until?: () => boolean;
  events: {
    listening?(endpoints: Endpoint[], registered: Mapping[]): void;
    call?(proto: Proto, peer: string, log: CallLog): void;
    connection?(peer: string, open: boolean, error?: string): void;
  };
}

const RX = 65536;
const MAX_RECORD = 16 << 20;

function bound(type: number, at: SockAddr): number {
  const fd = openSocket(at, type);
  try {
    if (type === sock.SOCK_STREAM) sock.setIntOption(fd, sock.SOL_SOCKET, sock.SO_REUSEADDR, 1);
    sock.bindTo(fd, at);
    if (type === sock.SOCK_STREAM) sock.listen(fd, 128);
    return fd;
  } catch (e) {
    sock.close(fd);
    throw e;
  }
}

class Connection implements Pollable {
  readonly records: RecordReader;
  private out: Buffer[] = [];
  private outAt = 0;
  eof = false;
  closed = false;

  constructor(
    readonly fd: number,
    readonly peer: string,
    private readonly server: Server,
  ) {
    this.records = new RecordReader(`rpc serve: client ${peer}`, MAX_RECORD);
  }

  interests(): Array<[number, number]> {
    if (this.closed) return [];
    const w: Array<[number, number]> = [];
    if (!this.eof) w.push([this.fd, POLLIN]);
    if (this.out.length > 0) w.push([this.fd, POLLOUT]);
    return w;
  }

  ready(): void {
    try {
      this.flush();
      while (!this.eof && !this.closed) {
        const n = sock.recv(this.fd, this.server.rx, 0, RX);
        if (n === AGAIN) break;
        if (n === 0) {
          this.eof = true;
          break;
        }
        this.records.push(this.server.rx.view(0, n));
        for (let r = this.records.take(); r; r = this.records.take()) this.server.answer('tcp', r, this.peer, (reply) => this.send(reply));
      }
      if (this.eof && this.out.length === 0 && this.server.inFlight(this) === 0) this.server.drop(this);
    } catch (e) {
      this.server.drop(this, (e as Error).message);
    }
  }

  send(reply: Buffer): void {
    if (this.closed) return;
    this.out.push(frame(reply));
    try {
      this.flush();
    } catch (e) {
      this.server.drop(this, (e as Error).message);
    }
  }

  private flush(): void {
    while (this.out.length > 0) {
      const head = this.out[0]!;
      const n = this.server.transmit(this.fd, head, this.outAt);
      if (n === AGAIN) return;
      this.outAt += n;
      if (this.outAt === head.length) {
        this.out.shift();
        this.outAt = 0;
      }
    }
    if (this.eof && this.server.inFlight(this) === 0) this.server.drop(this);
  }
}

class Server {
  readonly rx = new IoBuffer(RX);
  private tx = new IoBuffer(RX);
  readonly reactor = new Reactor();
  private readonly conns = new Set<Connection>();
  /** --exec calls still running, per connection (UDP: per peer and XID, so a retransmission is not run twice). */
  private readonly running = new Map<Connection | string, number>();

  constructor(private readonly o: ServeOptions) {}

  /** Copy `data` from `at` into native memory and send what the socket takes. */
  transmit(fd: number, data: Buffer, at: number, to?: SockAddr): number {
    const len = data.length - at;
    if (this.tx.size < len) {
      this.tx.free();
      this.tx = new IoBuffer(len);
    }
    this.tx.load(data.subarray(at));
    return to ? sock.sendTo(fd, this.tx, 0, len, to) : sock.send(fd, this.tx, 0, len);
  }

  inFlight(c: Connection): number {
    return this.running.get(c) ?? 0;
  }

  /** Dispatch one call; `reply` gets the answer now, or when --exec finishes. */
  answer(proto: Proto, msg: Buffer, peer: string, reply: (b: Buffer) => void, key?: Connection | string): void {
    const done = (a: Answer | null) => {
      if (!a) return;
      this.o.events.call?.(proto, peer, a.log);
      reply(a.reply);
      this.reactor.touch();
    };
    const a = dispatch(msg, peer, this.o);
    if (!(a instanceof Promise)) return done(a);
    const k = key ?? peer;
    this.running.set(k, (this.running.get(k) ?? 0) + 1);
    a.then(done, () => {})
      .catch(() => {}) // a reply that cannot be sent ends nothing but that call
      .finally(() => {
        const left = (this.running.get(k) ?? 1) - 1;
        if (left > 0) this.running.set(k, left);
        else this.running.delete(k);
      });
  }

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  add(c: Connection): void {
    this.conns.add(c);
    this.reactor.add(c);
    this.o.events.connection?.(c.peer, true);
  }

  drop(c: Connection, error?: string): void {
    if (c.closed) return;
    c.closed = true;
    this.conns.delete(c);
    this.reactor.remove(c);
    sock.close(c.fd);
    this.o.events.connection?.(c.peer, false, error);
  }

  dropAll(): void {
    for (const c of [...this.conns]) this.drop(c, 'server stopped');
  }

  free(): void {
    this.rx.free();
    this.tx.free();
  }
}

function udpPollable(fd: number, server: Server): Pollable {
  return {
    interests: () => [[fd, POLLIN]],
    ready: () => {
      for (let i = 0; i < 64; i++) {
        const d = sock.recvFrom(fd, server.rx, 0, RX);
        if (!d) return;
        const msg = server.rx.copyOut(0, Math.min(d.size, RX));
        const peer = formatAddress(d.from);
        const key = msg.length >= 4 ? `${peer}/${msg.readUInt32BE(0)}` : peer;
        if (server.isRunning(key)) continue; // a retransmission of a call still running
        server.answer(
          'udp',
          msg,
          peer,
          (reply) => {
            try {
              // A reply the socket cannot take now (AGAIN) is dropped: the client sends again.
              server.transmit(fd, reply, 0, d.from);
            } catch (e) {
              // Too large for one datagram: SYSTEM_ERR instead, as libtirpc's svc_dg does.
              if (e instanceof IpcError && e.code === 'EMSGSIZE')
                server.transmit(fd, encodeReply(reply.readUInt32BE(0), { kind: 'accepted', stat: 'SYSTEM_ERR' }), 0, d.from);
              // Anything else concerns this one datagram only: the server goes on.
            }
          },
          key,
        );
      }
    },
  };
}

function listenerPollable(fd: number, server: Server): Pollable {
  return {
    interests: () => [[fd, POLLIN]],
    ready: () => {
      for (;;) {
        let a;
        try {
          a = sock.accept(fd);
        } catch {
          return; // EMFILE and the like: try again when a client leaves
        }
        if (!a) return;
        const c = new Connection(a.fd, formatAddress(a.peer), server);
        server.add(c);
        c.ready();
      }
    },
  };
}

export async function serve(o: ServeOptions): Promise<void> {
  const where = formatAddress(o.bind);
  const fds: number[] = [];
  const endpoints: Endpoint[] = [];
  const registered: Mapping[] = [];
  const pmap = { op: o.op, host: { family: 'inet' as const, address: '127.0.0.1', port: 111 }, proto: 'udp' as const, timeoutMs: 5000 };
  const server = new Server(o);
  try {
    try {
      let at = o.bind;
      if (o.udp) {
        const fd = bound(sock.SOCK_DGRAM, at);
        fds.push(fd);
        const local = sock.localAddress(fd);
        endpoints.push({ proto: 'udp', local });
        server.reactor.add(udpPollable(fd, server));
        if (at.family !== 'unix' && at.port === 0 && local.family !== 'unix') at = { ...at, port: local.port };
      }
      if (o.tcp) {
        let fd: number;
        try {
          fd = bound(sock.SOCK_STREAM, at);
        } catch (e) {
          // The UDP port number is taken for TCP: any port will do.
          if (at === o.bind) throw e;
          fd = bound(sock.SOCK_STREAM, o.bind);
        }
        fds.push(fd);
        endpoints.push({ proto: 'tcp', local: sock.localAddress(fd) });
        server.reactor.add(listenerPollable(fd, server));
      }
    } catch (e) {
      return rethrowSocketError(e, o.op, where, o.bind);
    }
    if (o.register) {
      for (const vers of o.versions) {
        await unset(pmap, o.prog, vers); // a stale entry of an earlier run, as rpcgen servers do
        for (const ep of endpoints) {
          const m = { prog: o.prog, vers, prot: ep.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, port: (ep.local as { port: number }).port };
          if (!(await set(pmap, m))) throw new OperationError(`${o.op}: the portmapper refused to register program ${o.prog} version ${vers} over ${ep.proto}`);
          registered.push(m);
        }
      }
    }
    o.events.listening?.(endpoints, registered);
    await server.reactor.run({
      what: `${o.op} ${endpoints.map((e) => `${e.proto} ${formatAddress(e.local)}`).join(', ')}`,
      idleMs: o.idleMs,
      done: () => o.until?.() ?? false,
    });
  } finally {
    server.dropAll();
    for (const fd of fds) sock.close(fd);
    server.free();
    const versions = [...new Set(registered.map((m) => m.vers))];
    for (const vers of versions) {
      try {
        await unset(pmap, o.prog, vers);
      } catch {
        /* the portmapper went away first: nothing left to remove */
      }
    }
  }
}
