// Spawning bin/ipcctl and peers from tests, and tracking what a test creates
// so that it is removed (by id) also when the test fails.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const IPCCTL = `${ROOT}bin/ipcctl`;
/** Debian's python3 with python3-sysv-ipc, not whatever python3 is first on PATH. */
export const PYTHON = '/usr/bin/python3';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  out: Buffer;
}

function toRun(r: SpawnSyncReturns<Buffer>): Run {
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, out: r.stdout, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Run ipcctl synchronously. `input` is its stdin (default: empty). */
export function ipcctl(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
  return toRun(
    spawnSync(IPCCTL, args, {
      input: opts.input ?? '',
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      timeout: opts.timeout ?? 20_000,
      maxBuffer: 1 << 30,
    }),
  );
}

/** Run any program synchronously. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
  return toRun(spawnSync(cmd, args, { input: opts.input ?? '', env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 20_000, maxBuffer: 1 << 30 }));
}

/** Run ipcctl in the background; resolves with its result when it exits. */
export function ipcctlAsync(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(IPCCTL, args, { env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const o = Buffer.concat(out);
      resolve({ code, signal, out: o, stdout: o.toString(), stderr: Buffer.concat(err).toString() });
    });
  });
  return { child, done };
}

/** Run ipcctl with a stdout pipe whose reader is gone before it writes. */
export function runWithClosedStdout(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(IPCCTL, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * One test per case of bad input: the exit code, a message that matches,
 * on exactly one `ipcctl: ...` line of stderr, and nothing on stdout.
 */
export function badInputCases(cases: Array<[name: string, args: string[], code: number, message: RegExp]>): void {
  for (const [name, args, code, message] of cases) {
    it(name, () => {
      const r = ipcctl(args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr).toMatch(/^ipcctl: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

type Kind = 'q' | 'm' | 's';
const created: Array<[Kind, number]> = [];

/** Remember an object for removal after this test, pass or fail. */
export function track(kind: Kind, id: number): number {
  created.push([kind, id]);
  return id;
}

afterEach(() => {
  while (created.length > 0) {
    const [kind, id] = created.pop()!;
    spawnSync('ipcrm', [`-${kind}`, String(id)], { stdio: 'ignore' });
  }
});

/** Create a private queue with ipcctl and track it. */
export function newQueue(extra: string[] = []): number {
  const r = ipcctl(['msgq', 'create', ...extra]);
  if (r.code !== 0) throw new Error(`msgq create failed: ${r.stderr}`);
  return track('q', Number(r.stdout.trim()));
}

/** A new private semaphore set (sem create EXTRA...), removed after the test. */
export function newSet(extra: string[] = []): number {
  const r = ipcctl(['sem', 'create', ...extra]);
  if (r.code !== 0) throw new Error(`sem create failed: ${r.stderr}`);
  return track('s', Number(r.stdout.trim()));
}

/** A new private segment of `size` (shm create --size SIZE EXTRA...), removed after the test. */
export function newSegment(size: string, extra: string[] = []): number {
  const r = ipcctl(['shm', 'create', '--size', size, ...extra]);
  if (r.code !== 0) throw new Error(`shm create failed: ${r.stderr}`);
  return track('m', Number(r.stdout.trim()));
}

/** A key unlikely to collide with parallel tests: random in 0x4c000000..0x4cffffff. */
export function uniqueKey(): string {
  return (
    '0x4c' +
    Math.floor(Math.random() * 0xffffff)
      .toString(16)
      .padStart(6, '0')
  );
}

/**
 * `ipcctl batch` (or `taskset ... ipcctl batch`: any launcher and its words)
 * in the background: its first reply line, and its exit code.
 */
export function batchInBackground(command: string[] = [IPCCTL]) {
  const child = spawn(command[0]!, [...command.slice(1), 'batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let reply = '';
  child.stdout.setEncoding('utf8');
  const firstReply = new Promise<string>((resolve) => {
    child.stdout.on('data', (d: string) => {
      reply += d;
      if (reply.includes('\n')) resolve(reply);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, firstReply, exited };
}
