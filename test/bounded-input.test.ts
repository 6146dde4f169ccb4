// Bounded input (issue 11, item 2): a command that reads stdin into one
// message or datagram reads only one byte past the limit and refuses, naming
// it; a line above the limit is refused the same way after the lines before
// it went. `< /dev/zero` ends at once (a time bound catches a hang; memory
// stays bounded because reading stops). Stdin a directory is one EISDIR line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, newQueue, run, track } from './helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sh = (cmd: string, env: object = {}) => run('sh', ['-c', cmd], { env: { NO_COLOR: '1', ...env }, timeout: 20_000 });
const qnum = (id: number) => JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout).qnum as number;
const msgmax = () => Number(run('cat', ['/proc/sys/kernel/msgmax']).stdout.trim());

function oneLine(r: { stderr: string; stdout: string }, re: RegExp) {
  expect(r.stderr).toMatch(/^ipcctl: [^\n]*\n$/);
  expect(r.stderr).toMatch(re);
  expect(r.stdout).toBe('');
}

describe.each([
  ['the C helper', {}],
  ['one FFI call per message', { IPCCTL_NO_C_HELPER: '1' }],
] as const)('msgq send, through %s', (_name, env) => {
  it('whole stdin from /dev/zero: exit 1 at once, naming msgmax; nothing sent', () => {
    const id = newQueue();
    const r = sh(`${IPCCTL} msgq send ${id} < /dev/zero`, env);
    expect(r.code).toBe(1);
    oneLine(r, new RegExp(`msgq send ${id}: stdin holds more than ${msgmax()} bytes, above the system limit msgmax=${msgmax()}; nothing sent`));
    expect(qnum(id)).toBe(0);
  });

  it('whole stdin: exactly the limit goes, one byte more is refused; the queue limit counts when lower', () => {
    const id = newQueue();
    const at = join(dir, 'at'),
      over = join(dir, 'over');
    writeFileSync(at, Buffer.alloc(msgmax(), 0x61));
    writeFileSync(over, Buffer.alloc(msgmax() + 1, 0x61));
    expect(sh(`${IPCCTL} msgq send ${id} < ${at}`, env).code).toBe(0);
    expect(sh(`${IPCCTL} msgq send ${id} < ${over}`, env).code).toBe(1);
    expect(qnum(id)).toBe(1);
    const small = newQueue();
    expect(ipcctl(['msgq', 'set', String(small), '--max-bytes', '1000']).code).toBe(0);
    const r = sh(`head -c 1001 /dev/zero | ${IPCCTL} msgq send ${small}`, env);
    expect(r.code).toBe(1);
    oneLine(r, /stdin holds more than 1000 bytes, above the queue's limit of 1000 bytes; nothing sent/);
    expect(qnum(small)).toBe(0);
  });

  it('--lines from /dev/zero (no newline ever): exit 1, stopped reading at the limit', () => {
    const id = newQueue();
    const r = sh(`${IPCCTL} msgq send ${id} --lines < /dev/zero`, env);
    expect(r.code).toBe(1);
    oneLine(r, new RegExp(`a record of more than ${msgmax()} bytes is above the system limit msgmax=${msgmax()}; stopped reading there$`, 'm'));
    expect(qnum(id)).toBe(0);
  });

  it('--lines: the lines before a too-long one are sent and counted, in a pipe too', () => {
    const id = newQueue();
    const r = sh(`{ printf 'a\\nb\\nc\\n'; head -c 100000 /dev/zero; cat /dev/zero; } | ${IPCCTL} msgq send ${id} --lines`, env);
    expect(r.code).toBe(1);
    oneLine(r, /stopped reading there \(after sending 3 messages\)/);
    expect(ipcctl(['msgq', 'recv', String(id), '--all']).stdout).toBe('a\nb\nc\n');
  });

  it('--null --nowait from /dev/zero: empty records until the queue is full, exit 3 with the count', () => {
    const id = newQueue();
    const r = sh(`${IPCCTL} msgq send ${id} --null --nowait < /dev/zero`, env);
    expect(r.code).toBe(3);
    const sent = Number(/sent (\d+) messages/.exec(r.stderr)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(qnum(id)).toBe(sent);
  });

  it('stdin a directory: one EISDIR line, exit 1, nothing sent', () => {
    const id = newQueue();
    for (const mode of [[], ['--lines'], ['--null']]) {
      const r = sh(`${IPCCTL} msgq send ${id} ${mode.join(' ')} < ${dir}`, env);
      expect(r.code).toBe(1);
      oneLine(r, new RegExp(`^ipcctl: msgq send ${id}: EISDIR, stdin is a directory\\n$`));
    }
    expect(qnum(id)).toBe(0);
  });
});

describe('shm write and udp send', () => {
  it('shm write: stdin a directory is one EISDIR line; /dev/zero into a small segment is refused whole', () => {
    const id = track('m', Number(ipcctl(['shm', 'create', '--size', '4K']).stdout.trim()));
    const r = sh(`${IPCCTL} shm write ${id} < ${dir}`);
    expect(r.code).toBe(1);
    oneLine(r, new RegExp(`^ipcctl: shm write ${id}: EISDIR, stdin is a directory; nothing written\\n$`));
    const z = sh(`${IPCCTL} shm write ${id} < /dev/zero`);
    expect(z.code).toBe(2);
    oneLine(z, /more than 4096 bytes .* nothing written/);
  });

  it('udp send: whole stdin and a line above 65507 bytes are refused, naming the datagram limit; a directory is EISDIR', () => {
    // Port 9 (discard) on loopback: nothing needs to listen for a refusal before sending.
    const whole = sh(`${IPCCTL} udp send 127.0.0.1 9 < /dev/zero`);
    expect(whole.code).toBe(1);
    oneLine(whole, /udp send 127\.0\.0\.1:9: stdin holds more than 65507 bytes, the largest UDP datagram; nothing sent/);
    const lines = sh(`${IPCCTL} udp send 127.0.0.1 9 --lines < /dev/zero`);
    expect(lines.code).toBe(1);
    oneLine(lines, /a line of stdin holds more than 65507 bytes/);
    const d = sh(`${IPCCTL} udp send 127.0.0.1 9 < ${dir}`);
    expect(d.code).toBe(1);
    oneLine(d, /udp send 127\.0\.0\.1:9: EISDIR, stdin is a directory/);
  });
});
