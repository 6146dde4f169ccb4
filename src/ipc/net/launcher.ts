// Starting the children of one server: through the C helper's spawner
// threads when it is built (their replies are an fd in the server's
// reactor), else through a native thread per child. Our environment and
// each program's argv are made once; per child only the peer's strings.
import { IpcError } from '../../errors.js';
import { POLLIN, PollSet } from '../../native/poll.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { PointerTable, spawnAsync, Spawner, StringArray, type SpawnFds } from '../../native/spawn.js';
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

/** Our environment as NAME=value strings, without IPCCTL_PEER_* (each child gets its own). */
function baseEnvironment(): string[] {
  return Object.entries(process.env)
    .filter(([k, v]) => v !== undefined && k !== 'IPCCTL_PEER_ADDR' && k !== 'IPCCTL_PEER_PORT')
    .map(([k, v]) => `${k}=${v}`);
}

/** What every child of one server runs with, made once (the caller frees it when the server has ended). */
export interface ProgramTables {
  file: { strings: StringArray; index: number };
  argv: StringArray;
  env: StringArray;
  envCount: number;
  free(): void;
}

export function programTables(program: Program): ProgramTables {
  const base = baseEnvironment();
  const file = new StringArray([program.file]);
  const argv = new StringArray(program.argv);
  const env = new StringArray(base);
  return {
    file: { strings: file, index: 0 },
    argv,
    env,
    envCount: base.length,
    free() {
      file.free();
      argv.free();
      env.free();
    },
  };
}

/** Hears a child's start: its pid and a pidfd (-1: none yet), or why it failed. */
export type Started = (e: unknown, pid: number, pidfd: number) => void;

export class Launcher implements Pollable {
  private readonly waiting = new Map<number, { release: () => void; file: string; done: Started }>();
  private readonly spawner: Spawner | null;

  constructor(private readonly reactor: Reactor) {
    this.spawner = Spawner.get();
    if (this.spawner) reactor.add(this);
  }

  // Made once per server: our environment (without IPCCTL_PEER_*) and each
  // program's argv; per child only the peer's two strings are new.
  private baseEnv: { table: StringArray; count: number } | null = null;
  private readonly argvs = new Map<Program, StringArray>();

  private env(): { table: StringArray; count: number } {
    if (!this.baseEnv) {
      const entries = baseEnvironment();
      this.baseEnv = { table: new StringArray(entries), count: entries.length };
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
  }

  interests(): Array<[number, number]> {
    return this.spawner && this.waiting.size > 0 ? [[this.spawner.replies, POLLIN]] : [];
  }

  ready(): void {
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
  }
}
