// `serve --exec` with the C helper: the connections run in the C engine
// (src/native/c/exec_engine.c), one FFI call per wake of the server, and
// this side only turns its records into the server's events (stderr split
// into lines per peer, exit statuses, closes). The behaviour is the one of
// the TypeScript path in exec.ts, which serves without the helper.
import { errnoName, IpcError } from '../../errors.js';
import { type EngineEvent, ExecEngine } from '../../native/exec-engine.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { SIGKILL, SIGTERM } from '../../native/spawn.js';
import { GRACE_MS } from './children.js';
import type { ExecServeOptions } from './exec-options.js';
import { programTables } from './launcher.js';
import { Reactor } from './reactor.js';
import { rethrowSocketError } from './sockerr.js';

/** Serve on `lfd` through the engine: false (nothing done, `lfd` still ours) when the C helper is not there. */
export async function serveInEngine(lfd: number, opts: ExecServeOptions, where: string, local: SockAddr): Promise<boolean> {
  const tables = programTables(opts.program);
  const engine = ExecEngine.create({ lfd, keepOpen: opts.keepOpen, maxConns: opts.keepOpen ? (opts.maxConns ?? Infinity) : 1, linger: opts.linger, ...tables });
  if (!engine) {
    tables.free();
    return false;
  }
  const peers = new Map<number, { peer: SockAddr; carry: string }>();
  /** The program could not be started for the one client of a server without --keep-open. */
  let failure: IpcError | null = null;
  /** A client refused (out of fds) by a server without --keep-open: the command fails with it. */
  let refused: IpcError | null = null;
  const ev = opts.events;
  const each = (e: EngineEvent): void => {
    if (e.type === 'accept') {
      peers.set(e.id, { peer: e.peer, carry: '' });
      ev.accept?.(e.id, e.peer);
      return;
    }
    const p = peers.get(e.id);
    if (!p) return;
    if (e.type === 'stderr') {
      const lines = (p.carry + e.data.toString('utf8')).split('\n');
      p.carry = lines.pop()!;
      for (const l of lines) ev.stderr?.(e.id, p.peer, l);
    } else if (e.type === 'stderr-end') {
      if (p.carry !== '') ev.stderr?.(e.id, p.peer, p.carry);
      p.carry = '';
    } else if (e.type === 'exit') {
      ev.exit?.(e.id, p.peer, e.pid, { code: e.code, signal: e.signal });
    } else {
      peers.delete(e.id);
      ev.close?.(e.id, { sent: e.sent, error: e.err === 0 ? undefined : e.err === -1 ? 'server stopped' : errnoName(e.err) });
      if (!opts.keepOpen && e.refused) refused ??= new IpcError(e.err, 'exec', '');
      if (!opts.keepOpen && e.spawnFailed) failure ??= new IpcError(e.err, 'spawn', opts.program.file);
    }
  };

  const reactor = new Reactor();
  // One FFI call per wake: the engine waits in its epoll set and does what is ready.
  const wait = (ms: number): boolean => {
    const s = engine.run(ms, each);
    if (s.progress) reactor.touch();
    if (refused) throw refused;
    if (s.fatal) throw new IpcError(s.fatal, 'accept4', '');
    return s.progress;
  };
  try {
    await reactor.run({
      what: `${opts.op} ${where}`,
      idleMs: opts.idleMs,
      done: () => !opts.keepOpen && !engine.now.listening && engine.now.active === 0,
      wait,
    });
  } catch (e) {
    rethrowSocketError(e, opts.op, where, local);
  } finally {
    try {
      await stop(engine, each);
    } finally {
      engine.free();
      tables.free();
    }
  }
  const f = failure as IpcError | null;
  if (f) throw new IpcError(f.errno, opts.op, `--exec ${opts.program.file}`, { detail: 'the program could not be started', exitCode: 1 });
  return true;
}

/**
 * At server exit: the children asked for are waited for (each start takes
 * about a millisecond), every child still running gets SIGTERM, SIGKILL
 * after GRACE_MS (at once on a second Ctrl-C or SIGTERM), each is reaped,
 * and every connection left is closed as "server stopped".
 */
async function stop(engine: ExecEngine, each: (e: EngineEvent) => void): Promise<void> {
  engine.stopping();
  let again = false;
  const onSignal = () => (again = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const wait = (ms: number) => engine.run(ms, each);
  try {
    const settled = Date.now() + 10_000;
    while (engine.now.pending > 0 && Date.now() < settled) wait(10);
    if (engine.now.running > 0) {
      engine.signalAll(SIGTERM);
      const killAt = Date.now() + GRACE_MS;
      let killed = false;
      while (engine.now.running > 0) {
        if (!killed && (again || Date.now() >= killAt)) {
          engine.signalAll(SIGKILL);
          killed = true;
        }
        wait(20);
        // Let Node run the signal handlers.
        await new Promise((r) => setImmediate(r));
      }
    }
    while (engine.now.active > 0) engine.finishAll(each);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
