// `tcp serve --exec CMD` / `unix serve --exec CMD`: every connection runs
// CMD with the connection as its stdin and a pipe of ours as its stdout
// (ncat -e, socat EXEC:...,fork). The child reads the socket itself, so the
// peer's FIN is the child's stdin EOF with no relay in between; its stdout
// comes through us so that its EOF can become shutdown(SHUT_WR) while it
// may still read, and so that a child exiting with unread input does not
// make close(2) reset the connection (we read what is left first).
// Everything waits in one Reactor: listener, output pipes, pidfds, stderr.
// With the C helper the same runs in C (exec-engine.ts); this is the path
// without it (IPCCTL_NO_C_HELPER=1, or no C compiler at build time).
import { IpcError } from '../../errors.js';
import { IoBuffer, IoBufferPool } from '../../native/io-buffer.js';
import { POLLIN } from '../../native/poll.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { setNonBlocking } from '../../native/fd.js';
import * as sock from '../../native/net/socket.js';
import { AGAIN } from '../../native/net/socket.js';
import { childPipe } from '../../native/spawn.js';
import { formatAddress } from './address.js';
import { Flow, FlowError } from './flow.js';
import { type Pollable, Reactor } from './reactor.js';
import { rethrowSocketError } from './sockerr.js';
import { acceptClient, listenOn } from './stream.js';
import { Child, type ExitStatus, stopChildren } from './children.js';
import { Launcher, peerOf } from './launcher.js';
import type { ExecServeOptions } from './exec-options.js';

export type { ExecEvents, ExecServeOptions } from './exec-options.js';

/** After the child is done, how long we read what the peer still sends before closing. */
const DRAIN_MS = 2000;

const drainMem = new IoBuffer(64 << 10);
/** The relays' buffers (child stdout -> socket), reused from one connection to the next. */
const relayBuffers = new IoBufferPool(64 << 10);

class ExecConn implements Pollable {
  child: Child | null = null;
  private readonly flow: Flow;
  private outR: number;
  private stdoutDone = false;
  private drainUntil = 0;
  private draining = false;
  ended = false;
  error: string | undefined;
  /** Why the child could not start, if it could not. */
  spawnFailure: unknown = null;

  /** `fd` is the connection (blocking: the child reads it), `outR` our end of the child's stdout. */
  constructor(
    readonly id: number,
    readonly fd: number,
    outR: number,
    readonly peer: SockAddr,
    private readonly reactor: Reactor,
    private readonly opts: ExecServeOptions,
    private readonly onEnd: (c: ExecConn) => void,
  ) {
    this.outR = outR;
    this.flow = new Flow(reactor, {
      src: outR,
      dst: fd,
      copy: true,
      buffers: relayBuffers,
      kinds: { src: 'pipe', dst: 'socket' },
      onEnd: () => {
        // The child's stdout ended: the peer sees EOF, and may still be read from.
        sock.shutdown(fd, sock.SHUT_WR);
        this.closeOut();
      },
    });
    reactor.add(this);
    this.flow.awaitSource();
  }

  onStderr = (line: string): void => this.opts.events.stderr?.(this.id, this.peer, line);

  onExit = (s: ExitStatus): void => {
    this.opts.events.exit?.(this.id, this.peer, this.child!.pid, s);
    this.maybeEnd();
  };

  /** Its child runs. */
  started(child: Child): void {
    this.child = child;
    if (this.ended) return;
    this.reactor.add(child);
    this.reactor.touch();
  }

  /** Out of processes or fds (EAGAIN, EMFILE): this client is refused, the server goes on. */
  failed(e: unknown): void {
    this.error = e instanceof IpcError ? e.code : String((e as Error).message);
    this.spawnFailure = e;
    this.finish();
  }

  private closeOut(): void {
    this.stdoutDone = true;
    if (this.outR >= 0) sock.close(this.outR);
    this.outR = -1;
    this.maybeEnd();
  }

  interests(): Array<[number, number]> {
    if (this.draining) {
      if (Date.now() >= this.drainUntil) {
        // Interests are asked every slice: a good enough clock for this.
        queueMicrotask(() => this.finish());
        return [];
      }
      return [[this.fd, POLLIN]];
    }
    return this.flow.interests();
  }

  ready(): void {
    if (this.draining) return this.drain();
    this.pump();
  }

  pump(): void {
    try {
      this.flow.pump();
    } catch (e) {
      // The peer went away (EPIPE, ECONNRESET): the child gets EPIPE on its next write.
      this.error = e instanceof FlowError ? e.code : String((e as Error).message);
      this.flow.stop();
      this.closeOut();
    }
  }

  private maybeEnd(): void {
    if (this.ended || this.draining || !this.stdoutDone || !this.child || this.child.running) return;
    this.draining = true;
    this.drainUntil = Date.now() + DRAIN_MS;
    this.drain();
  }

  /** Read and drop what the peer still sends, until its FIN (close then sends no reset). */
  private drain(): void {
    for (;;) {
      let n: number;
      try {
        n = sock.recv(this.fd, drainMem, 0, drainMem.size);
      } catch {
        return this.finish();
      }
      if (n === AGAIN) return;
      if (n === 0) return this.finish();
      this.reactor.touch();
    }
  }

  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.draining = false;
    this.flow.stop();
    if (this.outR >= 0) sock.close(this.outR);
    this.outR = -1;
    this.reactor.remove(this);
    if (this.child) {
      this.reactor.remove(this.child);
      this.child.release();
    }
    sock.close(this.fd);
    this.opts.events.close?.(this.id, { sent: this.flow.bytes, error: this.error });
    this.onEnd(this);
  }
}

export async function serveExec(opts: ExecServeOptions): Promise<void> {
  const { fd: lfd, local } = listenOn(opts);
  const where = formatAddress(local);
  opts.events.listening?.(local);
  const { serveInEngine } = await import('./exec-engine.js');
  if (await serveInEngine(lfd, opts, where, local)) return;
  const reactor = new Reactor();
  const launcher = new Launcher(reactor);
  const conns = new Map<number, ExecConn>();
  let listening = true;
  let served = 0;
  let failure: unknown = null;
  const max = opts.keepOpen ? (opts.maxConns ?? Infinity) : 1;
  const ended = (c: ExecConn) => {
    conns.delete(c.id);
    // Serving one client: the command fails with its child.
    if (!opts.keepOpen && c.spawnFailure) failure = c.spawnFailure;
  };

  const admit = (id: number, c: ExecConn) => {
    conns.set(id, c);
    reactor.touch();
    if (!opts.keepOpen) {
      listening = false;
      sock.close(lfd);
    }
  };
  const refused = (id: number, e: unknown) => {
    // Out of fds for the pipes (EMFILE): this client is refused, the server goes on.
    opts.events.close?.(id, { sent: 0, error: e instanceof IpcError ? e.code : String((e as Error).message) });
    if (!opts.keepOpen) throw e;
  };

  const acceptHere = () => {
    while (listening && conns.size < max) {
      const a = acceptClient(lfd, opts.op, where, local);
      if (!a) return;
      if (opts.linger !== undefined) sock.setLinger(a.fd, opts.linger);
      const id = ++served;
      opts.events.accept?.(id, a.peer);
      let c: ExecConn;
      let outW: number;
      try {
        // The child reads this socket with ordinary blocking reads; our own
        // calls on it pass MSG_DONTWAIT, so they still never block.
        setNonBlocking(a.fd, false);
        let outR: number;
        [outR, outW] = childPipe('read');
        c = new ExecConn(id, a.fd, outR, a.peer, reactor, opts, ended);
      } catch (e) {
        sock.close(a.fd);
        refused(id, e);
        continue;
      }
      admit(id, c);
      c.pump();
      Child.start(launcher, opts.program, peerOf(a.peer), { stdin: a.fd, stdout: outW }, c.onStderr, c.onExit, (e, child) => {
        sock.close(outW);
        if (e !== null || !child) return c.failed(e);
        c.started(child);
      });
    }
  };

  const listener: Pollable = {
    interests: () => (listening && conns.size < max ? [[lfd, POLLIN]] : []),
    ready: acceptHere,
  };
  reactor.add(listener);
  try {
    await reactor.run({
      what: `${opts.op} ${where}`,
      idleMs: opts.idleMs,
      done: () => !opts.keepOpen && !listening && conns.size === 0,
    });
  } catch (e) {
    rethrowSocketError(e, opts.op, where, local);
  } finally {
    if (listening) sock.close(lfd);
    await launcher.settle();
    const left = [...conns.values()];
    await stopChildren(left.flatMap((c) => (c.child ? [c.child] : [])));
    for (const c of [...conns.values()]) {
      c.error ??= 'server stopped';
      c.finish();
    }
  }
  if (failure instanceof IpcError)
    throw new IpcError(failure.errno, opts.op, `--exec ${opts.program.file}`, { detail: 'the program could not be started', exitCode: 1 });
  // What the spawn threw, re-thrown as it was (the CLI reports any thrown value).
  if (failure) throw failure as Error;
}
