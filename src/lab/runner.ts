// The machinery every lab shares: real child processes (this same program,
// started as dist/lab/worker.js ROLE; Node cannot fork(2) safely), real
// System V objects created IPC_PRIVATE, and one cleanup that kills every
// child by pid and removes every object, whatever ends the run: success, a
// failure, the time limit or SIGINT. Never prints: what happens is handed to
// the caller as LabEvents, and the outcome is a LabResult.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, InterruptedError, OperationError } from '../errors.js';
import { MessageQueue } from '../ipc/sysv/msgq.js';
import { SemaphoreSet } from '../ipc/sysv/sem.js';
import { SharedMemory } from '../ipc/sysv/shm.js';
import { formatMs } from '../ipc/wait.js';
import { delay, type LongTimer, setLongTimeout } from '../timer.js';

export type Tone = 'info' | 'step' | 'good' | 'bad';

export interface LabEvent {
  /** Milliseconds since the lab started. */
  ms: number;
  text: string;
  tone: Tone;
}

/** The outcome: `ok` is true when the run behaved as the lesson predicts. */
export interface LabResult {
  lab: string;
  ok: boolean;
  verdict: string;
  seconds: number;
  [figure: string]: unknown;
}

/** What a role (the code a child process runs) gets from its parent. */
export interface WorkerContext<A> {
  args: A;
  /** A line of narration, shown by the parent as "NAME: text". */
  note(text: string): void;
  /** Tell the parent this child is set up (Child.ready resolves). */
  ready(): void;
  /** The next message of this type the parent sends with Child.send. */
  message(type: string): Promise<Record<string, unknown>>;
}

// Roles are looked up by name from the command line of a child, and a lab's
// options come from the command: their types are erased at this boundary
// (`never` accepts every role and run function; callers cast to it).
export type Role = (ctx: WorkerContext<never>) => Promise<unknown>;

export interface LabModule {
  roles: Record<string, Role>;
  run(run: LabRun, opts: never): Promise<LabResult>;
}

/** Parent <-> child messages over the Node IPC channel. */
export type ToParent = { t: 'ready' } | { t: 'note'; text: string } | { t: 'result'; value: unknown } | { t: 'error'; message: string; exitCode: number };

const WORKER = join(__dirname, 'worker.js');

/** A child process playing one role; the parent's handle on it. */
export class Child {
  readonly pid: number;
  /** Resolves when the child called ready(). */
  readonly ready: Promise<void>;
  /** Resolves with what the role returned. */
  readonly result: Promise<unknown>;
  private expectedEnd = false;
  /** The result was resolved or rejected (once: later messages and the exit change nothing). */
  private settled = false;
  private stderrTail = '';
  private exited = false;
  private readonly exitedPromise: Promise<void>;

  constructor(
    private readonly proc: ChildProcess,
    readonly name: string,
    run: LabRun,
  ) {
    this.pid = proc.pid ?? -1;
    let readyResolve!: () => void;
    this.ready = new Promise((r) => (readyResolve = r));
    let resultResolve!: (v: unknown) => void;
    let resultReject!: (e: Error) => void;
    this.result = new Promise((res, rej) => {
      resultResolve = res;
      resultReject = rej;
    });
    // Nobody may be waiting for the result of a child we kill: not an error.
    this.result.catch(() => {});
    const failed = (err: Error) => {
      if (this.settled) return;
      this.settled = true;
      resultReject(err);
      if (!this.expectedEnd) run.abort(err);
    };
    proc.on('message', (m: ToParent) => {
      if (m.t === 'ready') readyResolve();
      else if (m.t === 'note') run.say(`${this.name}: ${m.text}`);
      else if (m.t === 'result' && !this.settled) {
        this.settled = true;
        resultResolve(m.value);
      } else if (m.t === 'error') {
        failed(
          m.exitCode === EXIT.INTERRUPTED
            ? new InterruptedError(`lab ${run.lab}: interrupted`)
            : new OperationError(`lab ${run.lab}: ${this.name} (pid ${this.pid}): ${m.message}`, m.exitCode),
        );
      }
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    // 'close', not 'exit': 'exit' can come before the last IPC message (the
    // worker's result) has been read, which would look like a silent death.
    this.exitedPromise = new Promise((resolve) => {
      proc.on('close', (code, signal) => {
        this.exited = true;
        resolve();
        if (this.settled) return;
        if (signal === 'SIGINT' || code === EXIT.INTERRUPTED) return failed(new InterruptedError(`lab ${run.lab}: interrupted`));
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const last = this.stderrTail.trim().split('\n').pop();
        failed(new OperationError(`lab ${run.lab}: ${this.name} (pid ${this.pid}) ${how} before it finished${last ? `: ${last}` : ''}`));
      });
    });
    proc.on('error', (e) => failed(new OperationError(`lab ${run.lab}: could not start ${this.name}: ${e.message}`)));
  }

  /** The role returned (or failed): the process is only exiting now. */
  get finished(): boolean {
    return this.settled;
  }

  /** A message for the child's ctx.message(type). */
  send(type: string, data: Record<string, unknown> = {}): void {
    if (!this.exited && this.proc.connected) this.proc.send({ ...data, t: type });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** SIGKILL, by pid; the end is expected, so the run does not fail. */
  kill(): void {
    this.expectedEnd = true;
    if (this.exited) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  /** Resolves when the process has exited (or after `ms`). */
  async gone(ms: number): Promise<boolean> {
    if (this.exited) return true;
    let timer: LongTimer | undefined;
    await Promise.race([this.exitedPromise, new Promise<void>((r) => (timer = setLongTimeout(r, ms)))]);
    timer?.clear();
    return this.exited;
  }
}

type Made = { kind: 'sem' | 'shm' | 'msgq'; id: number } | { kind: 'dir'; path: string };

const kindName = { sem: 'semaphore set', shm: 'shared memory segment', msgq: 'message queue' } as const;

/** One run of one lab: its narration, its children, its objects. */
export class LabRun {
  private readonly started = Date.now();
  private readonly children: Child[] = [];
  private readonly made: Made[] = [];
  private failure: Error | null = null;
  private silenced = false;
  private rejectAbort!: (e: Error) => void;
  /** Rejects when the run must stop: SIGINT, the time limit, a child failing. */
  private readonly aborted: Promise<never>;

  constructor(
    readonly lab: string,
    private readonly onEvent: (e: LabEvent) => void,
  ) {
    this.aborted = new Promise<never>((_, rej) => (this.rejectAbort = rej));
    this.aborted.catch(() => {});
  }

  get ms(): number {
    return Date.now() - this.started;
  }

  /**
   * Narrate. Also called from child message handlers, outside any flow that
   * could catch: a failing listener (its reader went away) stops the run,
   * which then cleans up, instead of crashing the process with objects left.
   */
  say(text: string, tone: Tone = 'info'): void {
    if (this.silenced) return;
    try {
      this.onEvent({ ms: this.ms, text, tone });
    } catch (e) {
      this.silenced = true;
      this.abort(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Stop the run with `err` (the first reason wins). */
  abort(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.rejectAbort(err);
  }

  get stopping(): boolean {
    return this.failure !== null;
  }

  // ---- objects, all IPC_PRIVATE, all removed by close() ----

  async semaphores(values: number[]): Promise<SemaphoreSet> {
    this.check();
    const made = await SemaphoreSet.create({ key: { kind: 'key', key: 0 }, values, mode: 0o600, exclusive: true, initWaitMs: 0 });
    this.made.push({ kind: 'sem', id: made.id });
    return SemaphoreSet.fromId(made.id);
  }

  async sharedMemory(size: number): Promise<SharedMemory> {
    this.check();
    const id = await SharedMemory.create({ key: { kind: 'key', key: 0 }, size, mode: 0o600, exclusive: true });
    this.made.push({ kind: 'shm', id });
    return SharedMemory.fromId(id);
  }

  async queue(): Promise<MessageQueue> {
    this.check();
    const id = await MessageQueue.create({ key: { kind: 'key', key: 0 }, mode: 0o600, exclusive: true });
    this.made.push({ kind: 'msgq', id });
    return MessageQueue.fromId(id);
  }

  tempDir(): string {
    this.check();
    const path = mkdtempSync(join(tmpdir(), `ipcctl-lab-${this.lab}-`));
    this.made.push({ kind: 'dir', path });
    return path;
  }

  // ---- children ----

  /** Start a child process playing `role` of this lab with `args`. */
  spawn(role: string, args: unknown, name = role): Child {
    this.check();
    // detached: a child has its own process group, so Ctrl-C at a terminal
    // reaches only this process, which then ends the children by pid.
    const proc = fork(WORKER, [this.lab, role, JSON.stringify(args)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      detached: true,
      serialization: 'json',
    });
    const child = new Child(proc, name, this);
    this.children.push(child);
    return child;
  }

  // ---- waiting, always cut short by abort ----

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** `p`, unless the run is stopped first. */
  wait<T>(p: Promise<T>): Promise<T> {
    this.check();
    return Promise.race([p, this.aborted]);
  }

  sleep(ms: number): Promise<void> {
    return this.wait(delay(ms));
  }

  /**
   * Poll `cond` every `everyMs` until it holds (true) or `timeoutMs` passes
   * (false). The parent never blocks in the kernel: it polls.
   */
  async until(cond: () => boolean, opts: { timeoutMs?: number; everyMs?: number } = {}): Promise<boolean> {
    const end = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    for (;;) {
      this.check();
      if (cond()) return true;
      if (Date.now() >= end) return false;
      await this.sleep(Math.min(opts.everyMs ?? 5, Math.max(1, end - Date.now())));
    }
  }

  /** Like until(), but a timeout is a failure of the lab, naming `what`. */
  async expect(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (!(await this.until(cond, { timeoutMs }))) {
      throw new OperationError(`lab ${this.lab}: ${what} did not happen within ${formatMs(timeoutMs)}`);
    }
  }

  // ---- the end ----

  /** Kill every child still running (by pid), remove every object. */
  async close(): Promise<void> {
    // Children that returned their result are on their way out: a moment for that.
    await Promise.all(this.children.filter((c) => c.alive && c.finished).map((c) => c.gone(1000)));
    const running = this.children.filter((c) => c.alive);
    for (const c of running) c.kill();
    await Promise.all(running.map((c) => c.gone(2000)));
    if (running.length > 0)
      this.say(`killed ${running.length === 1 ? 'worker' : `${running.length} workers`} still running (pid ${running.map((c) => c.pid).join(', ')})`, 'step');
    const removed: string[] = [];
    for (const m of this.made.splice(0).reverse()) {
      try {
        if (m.kind === 'dir') rmSync(m.path, { recursive: true, force: true });
        else if (m.kind === 'sem') SemaphoreSet.fromId(m.id).remove();
        else if (m.kind === 'shm') SharedMemory.fromId(m.id).remove();
        else MessageQueue.fromId(m.id).remove();
        removed.push(m.kind === 'dir' ? `directory ${m.path}` : `${kindName[m.kind]} ${m.id}`);
      } catch {
        /* already gone: nothing left to remove */
      }
    }
    if (removed.length > 0) this.say(`removed ${removed.reverse().join(', ')}`, 'step');
  }
}

/**
 * Run one lab: SIGINT and the time limit stop it; whatever happens, its
 * children are killed and its objects removed before this returns or throws.
 */
export async function runLab(name: string, mod: LabModule, opts: unknown, onEvent: (e: LabEvent) => void, maxMs: number): Promise<LabResult> {
  const run = new LabRun(name, onEvent);
  const onSigint = () => run.abort(new InterruptedError(`lab ${name}: interrupted`));
  process.on('SIGINT', onSigint);
  const timer = setLongTimeout(
    () => run.abort(new OperationError(`lab ${name}: did not finish within ${formatMs(maxMs)}; stopped it`, EXIT.TIMEOUT, 'raise --max-time for bigger runs')),
    maxMs,
  );
  try {
    const work = mod.run(run, opts as never);
    work.catch(() => {}); // after an abort it may reject later, unobserved
    return await run.wait(work);
  } finally {
    timer.clear();
    await run.close();
    // A second Ctrl-C during the cleanup is ignored until here: the cleanup finishes.
    process.off('SIGINT', onSigint);
  }
}

/** Seconds with millisecond precision, for results. */
export function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
