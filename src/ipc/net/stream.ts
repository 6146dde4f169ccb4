// Stream sockets (TCP and UNIX SOCK_STREAM): a server that accepts one
// client or many at once, and a client that sends its input, half-closes,
// and keeps reading until the peer closes. Typed values in, events out;
// never prints. All waiting happens in one Reactor (poll on the main thread).
import { IpcError } from '../../errors.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import { familyNumber, type SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { formatAddress } from './address.js';
import { Flow, FlowError } from './flow.js';
import { type Pollable, Reactor, waitReady } from './reactor.js';
import { rethrowSocketError } from './sockerr.js';
import * as unixpath from './unixpath.js';

export interface ServeEvents {
  listening?(local: SockAddr): void;
  accept?(conn: number, peer: SockAddr): void;
  /** When given, received bytes come here (and not to `output`). */
  data?: (conn: number, chunk: Buffer) => void;
  close?(conn: number, info: { received: number; error?: string }): void;
}

/** What every stream server (plain, --exec, --broker) is told about its listening socket. */
export interface ListenerOptions {
  /** "tcp serve" or "unix serve", for messages. */
  op: string;
  address: SockAddr;
  backlog: number;
  reuseaddr: boolean;
  /** With keepOpen (--broker: always): at most this many clients at once; others wait in the backlog. */
  maxConns?: number;
  idleMs?: number;
  /** Called right after bind(2), before anything can fail later (UNIX: remember the file). */
  afterBind?: (local: SockAddr) => void;
}

export interface ServeOptions extends ListenerOptions {
  /** SO_LINGER seconds for every accepted connection. */
  linger?: number;
  keepOpen: boolean;
  echo: boolean;
  /** fd that receives what clients send (stdout), or null to drop it. */
  output: number | null;
  events: ServeEvents;
  /**
   * Called once at the start with a reader of the bytes moved so far, over
   * all clients (for --progress: it polls this, the flows keep the count anyway).
   */
  meter?: (moved: () => number) => void;
}

/** A socket of the address's family. The caller closes it if its setup then fails (see listenOn). */
export function openSocket(a: SockAddr, type: number): number {
  return sock.socket(familyNumber(a), type);
}

/** Listening socket for `opts`: the fd and the address it really got (port 0 -> chosen port). */
export function listenOn(opts: ListenerOptions): { fd: number; local: SockAddr } {
  const where = formatAddress(opts.address);
  let fd = -1;
  try {
    fd = openSocket(opts.address, sock.SOCK_STREAM);
    if (opts.reuseaddr && opts.address.family !== 'unix') sock.setIntOption(fd, sock.SOL_SOCKET, sock.SO_REUSEADDR, 1);
    sock.bindTo(fd, opts.address);
    const local = sock.localAddress(fd);
    opts.afterBind?.(local);
    sock.listen(fd, opts.backlog);
    return { fd, local };
  } catch (e) {
    if (fd >= 0) sock.close(fd);
    return rethrowSocketError(e, opts.op, where, opts.address);
  }
}

/**
 * accept(2) one waiting client of listening socket `lfd`: null when none is
 * waiting, or when this process is out of descriptors (EMFILE/ENFILE: the
 * listener tries again when a connection closes).
 */
export function acceptClient(lfd: number, op: string, where: string, local: SockAddr): { fd: number; peer: SockAddr } | null {
  try {
    return sock.accept(lfd);
  } catch (e) {
    if (e instanceof IpcError && (e.code === 'EMFILE' || e.code === 'ENFILE')) return null;
    return rethrowSocketError(e, op, where, local);
  }
}

class Connection {
  readonly flow: Flow;
  /** What the reactor polls for this connection; each readiness steps it. */
  readonly poller: Pollable;
  constructor(
    readonly id: number,
    readonly fd: number,
    readonly peer: SockAddr,
    reactor: Reactor,
    opts: ServeOptions,
    step: (c: Connection) => void,
  ) {
    const data = opts.events.data;
    this.flow = new Flow(reactor, {
      src: fd,
      dst: opts.echo ? fd : opts.output,
      observe: data ? (chunk) => data(id, chunk) : undefined,
      size: opts.keepOpen ? 256 << 10 : 1 << 20,
      // The client finished sending; with --echo everything went back too.
      onEnd: () => {
        if (opts.echo) sock.shutdown(fd, sock.SHUT_WR);
      },
    });
    this.poller = { interests: () => this.flow.interests(), ready: () => step(this) };
  }
}

/** Serve until the one client leaves (default), or for ever with keepOpen. */
export async function serve(opts: ServeOptions): Promise<void> {
  const { fd: lfd, local } = listenOn(opts);
  const where = formatAddress(local);
  opts.events.listening?.(local);
  const reactor = new Reactor();
  const conns = new Map<number, Connection>();
  let listening = true;
  let served = 0;
  let outputClosed = false;
  let failure: unknown = null;
  const max = opts.keepOpen ? (opts.maxConns ?? Infinity) : 1;
  let movedByClosed = 0;
  opts.meter?.(() => {
    let n = movedByClosed;
    for (const c of conns.values()) n += c.flow.bytes;
    return n;
  });

  const end = (c: Connection, error?: string) => {
    reactor.remove(c.poller);
    conns.delete(c.id);
    movedByClosed += c.flow.bytes;
    c.flow.stop();
    sock.close(c.fd);
    opts.events.close?.(c.id, { received: c.flow.bytes, error });
  };
  const step = (c: Connection) => {
    try {
      c.flow.pump();
      if (c.flow.done) end(c);
    } catch (e) {
      if (e instanceof FlowError && e.side === 'dst' && !opts.echo) {
        outputClosed = true; // stdout's reader went away: stop quietly
        end(c);
        return;
      }
      const msg = e instanceof FlowError ? `${e.failure.code}` : String((e as Error).message);
      end(c, msg);
      if (!opts.keepOpen) failure = e;
    }
  };

  const listener: Pollable = {
    interests: () => (listening && conns.size < max ? [[lfd, POLLIN]] : []),
    ready: () => {
      while (listening && conns.size < max) {
        const a = acceptClient(lfd, opts.op, where, local);
        if (!a) return;
        const c = new Connection(++served, a.fd, a.peer, reactor, opts, step);
        if (opts.linger !== undefined) sock.setLinger(a.fd, opts.linger);
        conns.set(c.id, c);
        reactor.add(c.poller);
        opts.events.accept?.(c.id, a.peer);
        if (!opts.keepOpen) {
          // One client: stop listening so that others are refused, as nc does.
          listening = false;
          sock.close(lfd);
        }
        step(c);
      }
    },
  };
  reactor.add(listener);
  try {
    await reactor.run({
      what: `${opts.op} ${where}`,
      idleMs: opts.idleMs,
      done: () => outputClosed || failure !== null || (!opts.keepOpen && !listening && conns.size === 0),
    });
  } finally {
    for (const c of [...conns.values()]) end(c, 'server stopped');
    if (listening) sock.close(lfd);
  }
  if (failure) rethrowSocketError(failure, opts.op, where, local);
}

export interface ConnectOptions {
  op: string;
  address: SockAddr;
  /** For connect and, after that, for idleness. */
  timeoutMs?: number;
  /** What to send: an fd (stdin) or fixed bytes; null sends nothing (-z). */
  input: number | Buffer | null;
  /** Where the peer's bytes go (stdout), or null. */
  output: number | null;
  onData?: (chunk: Buffer) => void;
  /** Sees every chunk sent (--hexdump). */
  onSent?: (chunk: Buffer) => void;
  /** --source/--source-port: bind to this address before connecting. */
  source?: SockAddr;
  /** --no-shutdown: do not half-close at the end of input (some servers end on FIN). */
  noShutdown?: boolean;
  /** --crlf: line ends go out as CRLF. */
  crlf?: boolean;
  /** Only check that the connection opens; close at once. */
  zero: boolean;
  linger?: number;
  /** Called once the transfer starts, with a reader of the bytes moved so far (for --progress). */
  meter?: (moved: () => { sent: number; received: number }) => void;
}

export interface ConnectResult {
  local: SockAddr;
  peer: SockAddr;
  sent: number;
  received: number;
}

export async function connect(opts: ConnectOptions, onConnected?: (r: { local: SockAddr; peer: SockAddr }) => void): Promise<ConnectResult> {
  const where = formatAddress(opts.address);
  const fd = openSocket(opts.address, sock.SOCK_STREAM);
  let sourceFile: unixpath.Claim | null = null;
  try {
    let local: SockAddr;
    if (opts.source) {
      try {
        // Several clients from one fixed source port: allowed as soon as the old ones linger.
        if (opts.source.family !== 'unix') sock.setIntOption(fd, sock.SOL_SOCKET, sock.SO_REUSEADDR, 1);
        else unixpath.prepare(opts.op, opts.source.path);
        sock.bindTo(fd, opts.source);
        // The file bind(2) made for our end goes when the connection does.
        sourceFile = unixpath.claim(opts.source);
      } catch (e) {
        return rethrowSocketError(e, opts.op, `${where} from ${formatAddress(opts.source)}`, opts.source);
      }
    }
    try {
      if (!sock.connectStart(fd, opts.address)) {
        await waitReady(fd, POLLOUT, `${opts.op} ${where}`, opts.timeoutMs);
        sock.connectResult(fd);
      }
      local = sock.localAddress(fd);
    } catch (e) {
      return rethrowSocketError(e, opts.op, where, opts.address);
    }
    const peer = opts.address;
    onConnected?.({ local, peer });
    if (opts.zero) return { local, peer, sent: 0, received: 0 };
    if (opts.linger !== undefined) sock.setLinger(fd, opts.linger);

    const reactor = new Reactor();
    let outputClosed = false;
    const down = new Flow(reactor, { src: fd, dst: opts.output, observe: opts.onData });
    const up: Flow | null =
      opts.input === null
        ? null
        : new Flow(reactor, {
            src: opts.input,
            dst: fd,
            observe: opts.onSent,
            transform: opts.crlf ? crlfTransform() : undefined,
            // At the end of our input: half-close, so the peer sees EOF and
            // can still answer (the reply that comes late is not lost).
            onEnd: () => {
              if (!opts.noShutdown) sock.shutdown(fd, sock.SHUT_WR);
            },
          });
    if (!up && !opts.noShutdown) sock.shutdown(fd, sock.SHUT_WR);
    opts.meter?.(() => ({ sent: up?.bytes ?? 0, received: down.bytes }));
    const guard = (flow: Flow, isUp: boolean) => {
      try {
        flow.pump();
      } catch (e) {
        if (isUp && e instanceof FlowError && e.side === 'dst') {
          // The peer stopped reading (EPIPE/ECONNRESET): what it sends is still read.
          flow.stop();
          return;
        }
        if (!isUp && e instanceof FlowError && e.side === 'dst') {
          outputClosed = true;
          flow.stop();
          return;
        }
        throw e;
      }
    };
    reactor.add({ interests: () => down.interests(), ready: () => guard(down, false) });
    if (up) reactor.add({ interests: () => up.interests(), ready: () => guard(up, true) });
    try {
      guard(down, false);
      if (up) guard(up, true);
      await reactor.run({ what: `${opts.op} ${where}`, idleMs: opts.timeoutMs, done: () => down.done || outputClosed });
    } catch (e) {
      up?.stop();
      down.stop();
      if (e instanceof FlowError) rethrowSocketError(e, opts.op, where, opts.address);
      throw e;
    }
    up?.stop();
    return { local, peer, sent: up?.bytes ?? 0, received: down.bytes };
  } finally {
    sock.close(fd);
    unixpath.release(sourceFile);
  }
}

/** LF -> CRLF, leaving a CRLF already there alone (also across chunks). */
export function crlfTransform(): (chunk: Buffer) => Buffer {
  let lastCR = false;
  return (chunk) => {
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let n = 0;
    for (const b of chunk) {
      if (b === 10 && !lastCR) out[n++] = 13;
      out[n++] = b;
      lastCR = b === 13;
    }
    return out.subarray(0, n);
  };
}
