// Processes a test starts: in the background, with their output in files and
// killed by pid after each test; and what they are doing, read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { listeningPort } from './net.js';
import { IPCCTL } from './run.js';
import { waitFor } from './wait.js';

/** A process started in the background: its stdout (a file) and stderr so far, and its exit code. */
export interface Proc {
  child: ChildProcess;
  out: () => Buffer;
  err: () => string;
  /** stdout as JSON lines (--json), each parsed. */
  jsonLines: () => Array<Record<string, unknown>>;
  done: Promise<number | null>;
}

export interface Background {
  /** A temporary folder, removed after the file's tests: the outputs are here, and the tests may put files of their own. */
  dir: string;
  /**
   * Start `cmd` in the background. Its stdout goes to a file: a pipe read
   * by this process would stall the peer whenever a synchronous spawn
   * blocks the test's event loop.
   */
  start: (cmd: string, args: string[], input?: Buffer | string, env?: NodeJS.ProcessEnv) => Proc;
  /** Run to the end without blocking this process (its servers keep running). */
  runAsync: (cmd: string, args: string[], input?: Buffer | string) => Promise<{ code: number | null; out: Buffer; stderr: string }>;
  /** Start an ipcctl server with --port 0 (and -v unless verbose is false) and learn its port from its "listening on" line. */
  startServer: (args: string[], opts?: { verbose?: boolean; env?: NodeJS.ProcessEnv }) => Promise<Proc & { port: number }>;
}

/**
 * Background processes for one test file (call it once, at the top): every
 * process started is killed by pid after each test, and the folder of
 * outputs (`ipcctl-TAG-...` under the temporary folder) removed after all.
 */
export function backgroundProcesses(tag: string): Background {
  const dir = mkdtempSync(join(tmpdir(), `ipcctl-${tag}-`));
  const started: ChildProcess[] = [];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    while (started.length) {
      const c = started.pop()!;
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
  let outputs = 0;
  const start = (cmd: string, args: string[], input?: Buffer | string, env: NodeJS.ProcessEnv = {}): Proc => {
    const file = join(dir, `out-${++outputs}`);
    const fd = openSync(file, 'w');
    const child = spawn(cmd, args, { stdio: ['pipe', fd, 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    closeSync(fd);
    started.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const out = () => readFileSync(file);
    const jsonLines = () =>
      out()
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    return { child, out, err: () => err, jsonLines, done };
  };
  return {
    dir,
    start,
    runAsync: async (cmd, args, input = '') => {
      const p = start(cmd, args, input);
      const code = await p.done;
      return { code, out: p.out(), stderr: p.err() };
    },
    startServer: async (args, opts = {}) => {
      const p = start(IPCCTL, [...args, '--port', '0', ...(opts.verbose === false ? [] : ['-v'])], undefined, opts.env);
      const port = await waitFor(`${args.join(' ')} to say where it listens`, () => listeningPort(p.err()) ?? (p.child.exitCode !== null ? 0 : undefined), {
        detail: () => p.err(),
      });
      if (port === 0) throw new Error(`server did not start: ${p.err()}`);
      return { ...p, port };
    },
  };
}

/**
 * msgrcv's number in /proc/PID/task/TID/syscall, per architecture: x86-64
 * has its own table; arm64, riscv64 and loongarch64 use the generic one
 * (asm-generic/unistd.h). Elsewhere the tests that need it say so and fail.
 */
const MSGRCV_BY_ARCH: Partial<Record<NodeJS.Architecture, number>> = { x64: 70, arm64: 188, riscv64: 188, loong64: 188 };

function msgrcvNumber(): number {
  const nr = MSGRCV_BY_ARCH[process.arch];
  if (nr === undefined) throw new Error(`msgrcv's system call number on ${process.arch} is not known to test/helpers/proc.ts`);
  return nr;
}

/** Resolve once some thread of `pid` sits in msgrcv(2): the command is really waiting. */
export async function waitUntilInMsgrcv(pid: number): Promise<void> {
  const SYS_msgrcv = msgrcvNumber();
  await waitFor(
    `process ${pid} to block in msgrcv`,
    () => readdirSync(`/proc/${pid}/task`).some((tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0]) === SYS_msgrcv),
    { timeoutMs: 10_000 },
  );
}

/**
 * Resolve once `pid` has `library` mapped and its main thread sleeps in the
 * kernel function `wchan` (default: epoll_wait, its event loop; a command
 * that polls sleeps there between two tries; /futex/ for one that sleeps
 * synchronously through Atomics.wait): it has loaded what it needs and waits.
 */
export async function waitUntilIdleWith(pid: number, library: string, wchan: RegExp = /^do_epoll_wait$/): Promise<void> {
  await waitFor(`process ${pid} to map ${library} and sleep in ${wchan.source}`, () => {
    if (!readFileSync(`/proc/${pid}/maps`, 'utf8').includes(library)) return false;
    return wchan.test(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  });
}
