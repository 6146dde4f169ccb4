// Starting the children of one server: through the C helper's spawner
// threads when it is built (their replies are an fd in the server's
// reactor), else through a native thread per child. Our environment and
// each program's argv are made once; per child only the peer's strings.
import { IpcError } from '../../errors.js';
import { POLLIN, PollSet } from '../../native/poll.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { type AcceptedConnection, type ExecTemplate, PointerTable, spawnAsync, Spawner, StringArray, type SpawnFds } from '../../native/spawn.js';
import { close as closeFd } from '../../native/net/socket.js';
import type { Pollable, Reactor } from './reactor.js';
import type { Program } from './program.js';

/** Who a child serves: IPCCTL_PEER_ADDR, and IPCCTL_PEER_PORT unless it is a UNIX peer. */
export interface Peer {
  addr: string;
  port: number | null;
}

export function peerOf(a: SockAddr): Peer {
  return a.family === 'unix' ? { addr: a.path, port: null } : { addr: a.address, port: a.port };
}

let spawner: Spawner | null | undefined;

/** Hears a child's start: its pid and a pidfd (-1: none yet), or why it failed. */
export type Started = (e: unknown, pid: number, pidfd: number) => void;

export class Launcher implements Pollable {
  private readonly waiting = new Map<number, { release: () => void; file: string; done: Started }>();
  private readonly spawner: Spawner | null;

  constructor(private readonly reactor: Reactor) {
    if (spawner === undefined) spawner = Spawner.start();
    this.spawner = spawner;
    if (this.spawner) reactor.add(this);
  }

  // Made once per server: our environment (without IPCCTL_PEER_*) and each
  // program's argv; per child only the peer's two strings are new.
  private baseEnv: { table: StringArray; count: number } | null = null;
  private readonly argvs = new Map<Program, StringArray>();

  private env(): { table: StringArray; count: number } {
    if (!this.baseEnv) {
      const entries = Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'IPCCTL_PEER_ADDR' && k !== 'IPCCTL_PEER_PORT');
      this.baseEnv = { table: new StringArray(entries.map(([k, v]) => `${k}=${v}`)), count: entries.length };
    }
    return this.baseEnv;
  }

  launch(program: Program, peer: Peer, fds: SpawnFds, done: Started): void {
    let argv = this.argvs.get(program);
    if (!argv) this.argvs.set(program, (argv = new StringArray(program.argv)));
    const extra = new StringArray([program.file, `IPCCTL_PEER_ADDR=${peer.addr}`, ...(peer.port !== null ? [`IPCCTL_PEER_PORT=${peer.port}`] : [])]);
    const base = this.env();
    // extra holds the file first; the environment takes the rest of it.
    const envp = new PointerTable([
      [base.table, 0, base.count],
      [extra, 1, peer.port !== null ? 2 : 1],
    ]);
    const release = () => {
      extra.free();
      envp.free();
    };
    if (!this.spawner) {
      this.reactor.track(spawnAsync(program.file, argv, envp, fds)).then(
        (pid) => {
          release();
          done(null, pid, -1);
        },
        (e: unknown) => {
          release();
          done(e, -1, -1);
        },
      );
      return;
    }
    const id = this.spawner.request({ file: { strings: extra, index: 0 }, argv, env: envp, fds });
    this.waiting.set(id, { release, file: program.file, done });
    this.expedite();
  }

  /** Can acceptSpawned be used (the C helper is there)? */
  get acceptsInHelper(): boolean {
    return this.spawner !== null;
  }

  private readonly templates = new Map<Program, ExecTemplate>();

  /**
   * The fast path of --exec (C helper only): accept up to `max` connections
   * on `lfd` and ask a child for each, in one call. `each` hears every
   * connection taken and returns what hears its child's start (null only
   * for one whose `error` says it was refused: no child comes for it).
   */
  acceptSpawned(lfd: number, max: number, program: Program, linger: number | undefined, each: (c: AcceptedConnection) => Started | null): number {
    let t = this.templates.get(program);
    if (!t) {
      let argv = this.argvs.get(program);
      if (!argv) this.argvs.set(program, (argv = new StringArray(program.argv)));
      const base = this.env();
      t = { file: { strings: new StringArray([program.file]), index: 0 }, argv, env: base.table, envCount: base.count, linger };
      this.templates.set(program, t);
    }
    const conns = this.spawner!.acceptAndSpawn(lfd, max, t);
    for (const c of conns) {
      const done = each(c);
      if (!c.error) this.waiting.set(c.id, { release: () => {}, file: program.file, done: done! });
    }
    return conns.length;
  }

  /**
   * Replies someone waits on: then a reply wakes the loop. The children of
   * acceptSpawned are not waited on until their connection needs them
   * (expedite): their replies are taken in passing, on the wake their
   * output brings anyway, which spares the server one wake per connection.
   */
  private expedited = false;

  /** A connection cannot go on without its child's reply: wake for it. */
  expedite(): void {
    this.expedited = true;
  }

  interests(): Array<[number, number]> {
    if (!this.spawner || this.waiting.size === 0) return [];
    // In passing: one read, which also runs what hears each start.
    if (!this.expedited) this.ready();
    return this.waiting.size > 0 && this.expedited ? [[this.spawner.replies, POLLIN]] : [];
  }

  ready(): void {
    this.expedited = false;
    for (const { id, pid, err, pidfd } of this.spawner!.takeReplies()) {
      const w = this.waiting.get(id);
      if (!w) {
        if (pidfd >= 0) closeFd(pidfd);
        continue;
      }
      this.waiting.delete(id);
      w.release();
      this.reactor.touch();
      if (pid >= 0) w.done(null, pid, pidfd);
      else w.done(new IpcError(err, 'spawn', w.file), -1, -1);
    }
  }

  /** At server exit: wait for the answers to every request still out (each takes about a millisecond). */
  async settle(): Promise<void> {
    const set = new PollSet(1);
    try {
      const deadline = Date.now() + 10_000;
      while (this.spawner && this.waiting.size > 0 && Date.now() < deadline) {
        set.clear();
        set.add(this.spawner.replies, POLLIN);
        if (set.wait(10) > 0) this.ready();
      }
    } finally {
      set.free();
    }
    // The fallback's threads report through promises.
    while (this.reactor.busy) await new Promise((r) => setTimeout(r, 1));
    if (this.spawner) this.reactor.remove(this);
    this.baseEnv?.table.free();
    this.baseEnv = null;
    for (const a of this.argvs.values()) a.free();
    this.argvs.clear();
    for (const t of this.templates.values()) t.file.strings.free();
    this.templates.clear();
  }
}
