// The C engine of `serve --exec` (src/native/c/exec_engine.c): the
// connections, their relays, reaping and closing run in C, one FFI call per
// wake of the server, and what the server reports comes back as typed
// events. Needs the C helper and its spawner threads (null without them).
import { bind, type LibcFunction } from './bind.js';
import { C } from './library.js';
import { NativeMemory } from './memory.js';
import { AF_INET, AF_INET6, decodeSockAddr, type SockAddr } from './net/sockaddr.js';
import { HELPER, Spawner, type StringArray, type Table } from './spawn.js';

export type EngineEvent =
  | { type: 'accept'; id: number; peer: SockAddr }
  | { type: 'stderr'; id: number; data: Buffer }
  | { type: 'stderr-end'; id: number }
  | { type: 'exit'; id: number; pid: number; code: number | null; signal: number | null }
  /** err: an errno value, 0 for none, -1 for "server stopped". */
  | { type: 'close'; id: number; sent: number; err: number; spawnFailed: boolean; refused: boolean };

export interface EngineState {
  /** Connections not yet closed. */
  active: number;
  listening: boolean;
  /** Children asked for whose start has not been heard yet. */
  pending: number;
  /** Children running. */
  running: number;
  /** Connections whose close waits for the peer's FIN (up to 2 s). */
  draining: number;
  /** What accept4 failed with (an errno value), else 0. */
  fatal: number;
  /** Did the call move anything? */
  progress: boolean;
}

export interface EngineSetup {
  lfd: number;
  keepOpen: boolean;
  /** Connections at once; Infinity for no limit. */
  maxConns: number;
  /** SO_LINGER seconds for each connection, or undefined. */
  linger: number | undefined;
  file: { strings: StringArray; index: number };
  argv: Table;
  /** Our environment, without IPCCTL_PEER_*: the engine adds those per child. */
  env: StringArray;
  envCount: number;
}

// struct exec_params (104 bytes).
const P = {
  engine: 0,
  file: 8,
  argv: 16,
  env: 24,
  out: 32,
  op: 40,
  arg: 44,
  lfd: 48,
  max: 52,
  linger: 56,
  envCount: 60,
  keepOpen: 64,
  outSize: 68,
  used: 72,
  active: 76,
  listening: 80,
  pending: 84,
  running: 88,
  draining: 92,
  fatal: 96,
  progress: 100,
  size: 104,
};
const OP = { new: 0, run: 1, closeListener: 2, stopping: 3, signal: 4, finishAll: 5, free: 6 };
const R = { accept: 1, stderr: 2, stderrEnd: 3, exit: 4, close: 5 };
const OUT_SIZE = 256 << 10;

export class ExecEngine {
  private readonly params: NativeMemory;
  private readonly out: NativeMemory;
  private freed = false;

  private constructor(
    private readonly fn: LibcFunction,
    params: NativeMemory,
    out: NativeMemory,
    /** The engine's epoll fd (readable when it has work); the engine waits in it itself. */
    readonly fd: number,
  ) {
    this.params = params;
    this.out = out;
  }

  /** An engine serving `lfd` (which it now owns and closes), or null without the C helper. */
  static create(s: EngineSetup): ExecEngine | null {
    if (!Spawner.get()) return null;
    const fn = bind('ipcctl_exec_engine', C.int, [C.ptr], HELPER);
    const params = new NativeMemory(P.size);
    const out = new NativeMemory(OUT_SIZE);
    const b = params.buf;
    b.fill(0);
    b.writeBigUInt64LE(BigInt(s.file.strings.pointer(s.file.index)), P.file);
    b.writeBigUInt64LE(BigInt(s.argv.addr), P.argv);
    b.writeBigUInt64LE(BigInt(s.env.addr), P.env);
    b.writeBigUInt64LE(BigInt(out.addr), P.out);
    b.writeInt32LE(OP.new, P.op);
    b.writeInt32LE(s.lfd, P.lfd);
    b.writeInt32LE(Number.isFinite(s.maxConns) ? s.maxConns : -1, P.max);
    b.writeInt32LE(s.linger ?? -1, P.linger);
    b.writeInt32LE(s.envCount, P.envCount);
    b.writeInt32LE(s.keepOpen ? 1 : 0, P.keepOpen);
    b.writeInt32LE(OUT_SIZE, P.outSize);
    const fd = fn.call(params.addr).value;
    if (fd < 0) {
      params.free();
      out.free();
      return null;
    }
    return new ExecEngine(fn, params, out, fd);
  }

  private readonly state: EngineState = { active: 0, listening: true, pending: 0, running: 0, draining: 0, fatal: 0, progress: false };

  /** What the last call left. */
  get now(): EngineState {
    return this.state;
  }

  private call(op: number, arg: number, each: (e: EngineEvent) => void): EngineState {
    const b = this.params.buf;
    b.writeInt32LE(op, P.op);
    b.writeInt32LE(arg, P.arg);
    this.fn.call(this.params.addr);
    const used = b.readInt32LE(P.used);
    // One state object, updated in place: this runs on every wake of the server.
    const st = this.state;
    st.active = b.readInt32LE(P.active);
    st.listening = b.readInt32LE(P.listening) !== 0;
    st.pending = b.readInt32LE(P.pending);
    st.running = b.readInt32LE(P.running);
    st.draining = b.readInt32LE(P.draining);
    st.fatal = b.readInt32LE(P.fatal);
    st.progress = b.readInt32LE(P.progress) !== 0;
    if (used > 0) this.decode(used, each);
    return st;
  }

  private decode(used: number, each: (e: EngineEvent) => void): void {
    const o = this.out.buf;
    for (let at = 0; at < used;) {
      const type = o.readUInt32LE(at);
      const len = o.readUInt32LE(at + 4);
      // Ids stay far below 2^53: two 32-bit halves, no BigInt.
      const id = o.readUInt32LE(at + 8) + o.readUInt32LE(at + 12) * 2 ** 32;
      const body = at + 16;
      if (type === R.accept) each({ type: 'accept', id, peer: this.peer(body) });
      else if (type === R.stderr) each({ type: 'stderr', id, data: o.subarray(body + 8, body + 8 + o.readUInt32LE(body)) });
      else if (type === R.stderrEnd) each({ type: 'stderr-end', id });
      else if (type === R.exit) {
        const code = o.readInt32LE(body + 4);
        const signal = o.readInt32LE(body + 8);
        each({ type: 'exit', id, pid: o.readInt32LE(body), code: code >= 0 ? code : null, signal: signal >= 0 ? signal : null });
      } else if (type === R.close) {
        const flags = o.readInt32LE(body + 12);
        each({
          type: 'close',
          id,
          sent: Number(o.readBigUInt64LE(body)),
          err: o.readInt32LE(body + 8),
          spawnFailed: (flags & 1) !== 0,
          refused: (flags & 2) !== 0,
        });
      }
      at += len;
    }
  }

  /** The peer of an accept record: inet and inet6 from the engine's text (no FFI call), a UNIX path from its bytes. */
  private peer(body: number): SockAddr {
    const o = this.out.buf;
    const sa = body + 8;
    const family = o.readUInt16LE(sa);
    const textAt = sa + 128;
    const text = o.toString('latin1', textAt, o.indexOf(0, textAt));
    if (family === AF_INET) return { family: 'inet', address: text, port: o.readUInt16BE(sa + 2) };
    if (family === AF_INET6) return { family: 'inet6', address: text, port: o.readUInt16BE(sa + 2), scopeId: o.readUInt32LE(sa + 24) };
    return decodeSockAddr(this.out, sa, o.readUInt32LE(body));
  }

  /**
   * Wait up to `ms` for something to happen, then do everything that is
   * ready: accepts, relays, exits, closes. `each` hears what happened (its
   * Buffers only during the call).
   */
  run(ms: number, each: (e: EngineEvent) => void): EngineState {
    return this.call(OP.run, ms, each);
  }

  closeListener(): EngineState {
    return this.call(OP.closeListener, 0, () => {});
  }

  /** The server stops: no more accepts, relays or drains; exits and stderr are still watched. */
  stopping(): EngineState {
    return this.call(OP.stopping, 0, () => {});
  }

  /** `sig` to every child still running. */
  signalAll(sig: number): EngineState {
    return this.call(OP.signal, sig, () => {});
  }

  /** Close every connection left ("server stopped"); call until none is active (the output may fill). */
  finishAll(each: (e: EngineEvent) => void): EngineState {
    return this.call(OP.finishAll, 0, each);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.call(OP.free, 0, () => {});
    this.params.free();
    this.out.free();
  }
}
