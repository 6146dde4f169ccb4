// Spinners and --progress only show on a terminal, so these tests give
// ipcctl one: script(1) runs it on a pseudo-terminal and copies what the
// terminal shows into a file. A pty made this way has 0 columns, which once
// sent ora into an endless loop when it erased the spinner: every test that
// stops a spinner here would hang (and time out) if that came back.
// Each test waits for what it expects to see, bounded in time, never for a
// fixed delay; every process started here is killed by pid afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { IPCCTL, PYTHON, ipcctl, track } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const started: ChildProcess[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const c of started.splice(0)) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

const ESC = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** What a person would read: escape sequences gone, CRLF as LF. */
function screen(raw: string): string {
  return raw.replace(ESC, '').replace(/\r\n/g, '\n');
}

let files = 0;
function tmp(name: string): string {
  return join(dir, `${++files}-${name}`);
}

interface Background {
  /** What the terminal (or the process's stderr) showed so far. */
  text: () => string;
  raw: () => string;
  done: Promise<number | null>;
  /** The pid of ipcctl itself (inside script, it replaced the shell). */
  pid(): number;
}

/**
 * Run a shell command line on a pty of its own. `line` is run by sh -c
 * inside script(1); `exec` keeps ipcctl at the shell's pid, written to a file.
 */
function onPty(line: string): Background {
  const out = tmp('pty');
  const pidFile = tmp('pid');
  const fd = openSync(out, 'w');
  const child = spawn('script', ['-qfec', `echo $$ > ${pidFile}; exec ${line}`, '/dev/null'], {
    stdio: ['ignore', fd, 'ignore'],
    env: { ...process.env, NO_COLOR: '1', SHELL: '/bin/sh' },
  });
  closeSync(fd);
  started.push(child);
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const raw = () => readFileSync(out, 'latin1');
  return {
    raw,
    text: () => screen(raw()),
    done,
    pid: () => {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (!pids.includes(pid)) pids.push(pid);
      return pid;
    },
  };
}

/** Wait until `what` shows, or fail after `ms` with what there was. */
function waitToShow(get: () => string, what: RegExp, ms = 10_000): Promise<RegExpExecArray> {
  return waitFor(String(what), () => what.exec(get()), { timeoutMs: ms, everyMs: 50, detail: () => `in:\n${get()}` });
}

/** A background ipcctl with no terminal; stdout to a file, stderr kept. */
function plain(args: string[], stdin: 'ignore' | number = 'ignore'): Background & { out: () => Buffer } {
  const out = tmp('out');
  const fd = openSync(out, 'w');
  const child = spawn(IPCCTL, args, { stdio: [stdin, fd, 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  closeSync(fd);
  started.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('latin1')));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { raw: () => err, text: () => err, done, pid: () => child.pid!, out: () => readFileSync(out) };
}

/** A TCP server with no terminal on --port 0; its port read from -v. */
async function tcpServer(): Promise<{ port: number; proc: ReturnType<typeof plain> }> {
  const proc = plain(['tcp', 'serve', '--port', '0', '-v']);
  const m = await waitToShow(proc.text, /listening on 127\.0\.0\.1:(\d+)/);
  return { port: Number(m[1]), proc };
}

const MiB8 = 8 << 20;
function payloadFile(): string {
  const f = tmp('payload');
  writeFileSync(f, randomBytes(MiB8));
  return f;
}

const SUMMARY_8M = /ipcctl: tcp connect: 8388608 bytes \(8\.0 MiB\) in [0-9.]+s, [0-9.]+ [KMGT]?i?B\/s; 8388608 sent, 0 received\n/;

describe('spinners while a command waits on a terminal', () => {
  it('msgq recv on an empty queue shows the spinner; Ctrl-C still exits 130 with the interrupted line', async () => {
    const id = track('q', Number(ipcctl(['msgq', 'create']).stdout));
    const t = onPty(`${IPCCTL} msgq recv ${id}`);
    await waitToShow(t.text, new RegExp(`waiting for a message on queue ${id}`));
    process.kill(t.pid(), 'SIGINT');
    expect(await t.done).toBe(130);
    const after = t.text().slice(t.text().lastIndexOf('waiting for a message'));
    expect(after).toMatch(new RegExp(`ipcctl: msgq recv ${id}: interrupted\\n$`));
    // The spinner was erased before the error line: the line starts clean.
    expect(t.raw()).toMatch(/\x1b\[0K(\x1b\[\?25h)*ipcctl: msgq recv \d+: interrupted/);
  }, 20_000);

  it('a spinner leaves a piped stdout in blocking mode (no O_NONBLOCK for us or whoever shares the pipe)', async () => {
    const id = track('q', Number(ipcctl(['msgq', 'create']).stdout));
    const fifo = tmp('fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('sh', ['-c', `cat ${fifo} > ${tmp('read')}`], { stdio: 'ignore' });
    started.push(reader);
    const t = onPty(`${IPCCTL} msgq recv ${id} > ${fifo}`);
    await waitToShow(t.text, new RegExp(`waiting for a message on queue ${id}`));
    const flags = Number.parseInt(/flags:\s*([0-7]+)/.exec(readFileSync(`/proc/${t.pid()}/fdinfo/1`, 'utf8'))![1]!, 8);
    expect(flags & 0o4000, 'O_NONBLOCK on stdout').toBe(0);
    process.kill(t.pid(), 'SIGINT');
    expect(await t.done).toBe(130);
  }, 20_000);

  it('sem op shows its spinner while it waits, and Ctrl-C exits 130', async () => {
    const id = track('s', Number(ipcctl(['sem', 'create']).stdout));
    const t = onPty(`${IPCCTL} sem op ${id} 0:-1`);
    await waitToShow(t.text, new RegExp(`waiting on semaphore set ${id}`));
    process.kill(t.pid(), 'SIGINT');
    expect(await t.done).toBe(130);
    expect(t.text()).toMatch(new RegExp(`ipcctl: sem op ${id}: interrupted\\n$`));
  }, 20_000);

  it('tcp serve spins until a client comes, then --progress ends with a summary; the bytes arrive intact', async () => {
    const file = payloadFile();
    const got = tmp('got');
    const t = onPty(`${IPCCTL} tcp serve --port 0 --progress > ${got}`);
    const m = await waitToShow(t.text, /waiting for a client on 127\.0\.0\.1:(\d+)/);
    const fd = openSync(file, 'r');
    const client = plain(['tcp', 'connect', '127.0.0.1', m[1]!], fd);
    closeSync(fd);
    expect(await client.done).toBe(0);
    expect(await t.done).toBe(0);
    expect(t.text()).toMatch(/ipcctl: tcp serve: 8388608 bytes \(8\.0 MiB\) in [0-9.]+s, /);
    expect(readFileSync(got).equals(readFileSync(file))).toBe(true);
  }, 30_000);

  it('udp listen spins until the first datagram, and the datagram is printed on a clean line', async () => {
    const t = onPty(`${IPCCTL} udp listen --port 0 -n 1 --lines`);
    const m = await waitToShow(t.text, /waiting for datagrams on 127\.0\.0\.1:(\d+)/);
    expect(ipcctl(['udp', 'send', '127.0.0.1', m[1]!, 'hello']).code).toBe(0);
    expect(await t.done).toBe(0);
    expect(t.raw()).toMatch(/\x1b\[0K(\x1b\[\?25h)*hello\r\n/);
  }, 20_000);

  it('unix serve spins until a client comes', async () => {
    const path = tmp('s.sock');
    const t = onPty(`${IPCCTL} unix serve ${path}`);
    await waitToShow(t.text, new RegExp(`waiting for a client on ${path}`));
    expect(ipcctl(['unix', 'connect', path, '--send', 'hi there']).code).toBe(0);
    expect(await t.done).toBe(0);
    expect(t.text()).toMatch(/hi there$/);
  }, 20_000);

  it('tcp connect spins while a connection takes long to open (a listener whose queue is full)', async () => {
    // A listener that never accepts, its queue filled: the kernel drops our
    // SYN and retries it, so connect(2) stays in progress until --timeout.
    const full = spawn(
      PYTHON,
      [
        '-c',
        `import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    fill.append(c)
print(port, flush=True)
time.sleep(15)`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    started.push(full);
    let portText = '';
    full.stdout!.on('data', (d: Buffer) => (portText += d.toString()));
    const port = (await waitToShow(() => portText, /^(\d+)\n/))[1]!;
    const t = onPty(`${IPCCTL} tcp connect --timeout 2s 127.0.0.1 ${port}`);
    await waitToShow(t.text, new RegExp(`connecting to 127\\.0\\.0\\.1:${port}`));
    expect(await t.done).toBe(124);
    expect(t.raw()).toMatch(new RegExp(`\x1b\\[0K(\x1b\\[\\?25h)*ipcctl: tcp connect 127\\.0\\.0\\.1:${port}: timed out after 2s\r\n$`));
  }, 20_000);

  it('shm attach says what it holds and detaches at the end of --hold', async () => {
    const id = track('m', Number(ipcctl(['shm', 'create', '--size', '4K']).stdout));
    const t = onPty(`${IPCCTL} shm attach ${id} --hold 1s`);
    await waitToShow(t.text, new RegExp(`holding segment ${id} attached \\(4\\.0K, read-write\\), 1s left; Ctrl-C to detach`));
    expect(await t.done).toBe(0);
  }, 20_000);
});

describe('--progress on bulk transfers', () => {
  it('tcp connect --progress: 8 MiB from a file end with a summary line on the terminal', async () => {
    const file = payloadFile();
    const server = await tcpServer();
    const t = onPty(`${IPCCTL} tcp connect --progress 127.0.0.1 ${server.port} < ${file} > /dev/null`);
    expect(await t.done).toBe(0);
    expect(t.text()).toMatch(SUMMARY_8M);
    expect(await server.proc.done).toBe(0);
    expect(server.proc.out().equals(readFileSync(file))).toBe(true);
  }, 30_000);

  it('a slow producer shows the live line (bytes, rate, time) before the summary', async () => {
    const server = await tcpServer();
    const producer = `sh -c 'for i in 1 2 3 4; do head -c 1048576 /dev/zero; sleep 0.3; done'`;
    const t = onPty(`sh -c "${producer} | ${IPCCTL} tcp connect --progress 127.0.0.1 ${server.port} > /dev/null"`);
    expect(await t.done).toBe(0);
    expect(t.raw()).toMatch(/\r {2}[0-9.]+ (B|KiB|MiB) {2}[0-9.]+ (B|KiB|MiB)\/s {2}[0-9.]+s\x1b\[K/);
    expect(t.text()).toMatch(/ipcctl: tcp connect: 4194304 bytes \(4\.0 MiB\) in [0-9.]+s, .*; 4194304 sent, 0 received\n/);
  }, 30_000);

  it('with stderr not a terminal, --progress prints nothing extra', async () => {
    const file = payloadFile();
    const server = await tcpServer();
    const fd = openSync(file, 'r');
    const client = plain(['tcp', 'connect', '--progress', '127.0.0.1', String(server.port)], fd);
    closeSync(fd);
    expect(await client.done).toBe(0);
    expect(client.text()).toBe('');
    expect(await server.proc.done).toBe(0);
    expect(server.proc.out().length).toBe(MiB8);
  }, 30_000);

  it('--json on a terminal: no spinner and no progress, only JSON lines', async () => {
    const file = payloadFile();
    const server = await tcpServer();
    const t = onPty(`${IPCCTL} --json tcp connect --progress 127.0.0.1 ${server.port} < ${file}`);
    expect(await t.done).toBe(0);
    expect(t.raw()).not.toMatch(ESC);
    const lines = t
      .text()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => JSON.parse(l) as { event: string })).toEqual([
      expect.objectContaining({ event: 'connected' }),
      { event: 'closed', sent: MiB8, received: 0 },
    ]);
    await server.proc.done;
  }, 30_000);

  it('unix serve --progress counts what a client sends', async () => {
    const path = tmp('p.sock');
    const file = payloadFile();
    const t = onPty(`${IPCCTL} unix serve --progress ${path} > /dev/null`);
    await waitToShow(t.text, /waiting for a client/);
    const fd = openSync(file, 'r');
    const client = plain(['unix', 'connect', path], fd);
    closeSync(fd);
    expect(await client.done).toBe(0);
    expect(await t.done).toBe(0);
    expect(t.text()).toMatch(/ipcctl: unix serve: 8388608 bytes \(8\.0 MiB\)/);
  }, 30_000);

  it('shm write --progress from a pipe and shm read --progress end with summaries; a refused write prints none', async () => {
    const id = track('m', Number(ipcctl(['shm', 'create', '--size', '8M']).stdout));
    const file = payloadFile();
    const w = onPty(`sh -c "cat ${file} | ${IPCCTL} shm write ${id} --progress"`);
    expect(await w.done).toBe(0);
    expect(w.text()).toMatch(new RegExp(`ipcctl: shm write ${id}: 8388608 bytes \\(8\\.0 MiB\\) in [0-9.]+s, `));
    const got = tmp('seg');
    const r = onPty(`${IPCCTL} shm read ${id} --progress > ${got}`);
    expect(await r.done).toBe(0);
    expect(r.text()).toMatch(new RegExp(`ipcctl: shm read ${id}: 8388608 bytes \\(8\\.0 MiB\\) in [0-9.]+s, `));
    expect(readFileSync(got).equals(readFileSync(file))).toBe(true);
    // One byte too many: refused whole, and no summary claims bytes moved.
    const big = tmp('big');
    writeFileSync(big, Buffer.alloc(MiB8 + 1));
    const refused = onPty(`sh -c "cat ${big} | ${IPCCTL} shm write ${id} --progress"`);
    expect(await refused.done).toBe(2);
    expect(refused.text()).toMatch(/nothing written/);
    expect(refused.text()).not.toMatch(/bytes \(/);
  }, 30_000);

  it('--progress with --dgram is a usage error', () => {
    const path = tmp('d.sock');
    const a = ipcctl(['unix', 'serve', '--dgram', '--progress', path]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^ipcctl: unix serve: --progress is for stream sockets, not --dgram\n$/);
    const b = ipcctl(['unix', 'connect', '--dgram', '--progress', path, 'x']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--progress is for stream sockets/);
  });
});
