// msgq as a careless user and a shell pipeline meet it: bad input, exit codes,
// and the promise that nothing is lost or half-done.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { badInputCases, IPCCTL, ipcctl, ipcctlAsync, newQueue, run, runWithClosedStdout } from './helpers/run.js';
import { waitUntilInMsgrcv } from './helpers/proc.js';

function stat(id: number) {
  return JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout);
}

function send(id: number, text: string, type = 1) {
  const r = ipcctl(['msgq', 'send', String(id), '-t', String(type), text]);
  expect(r.code, r.stderr).toBe(0);
}

describe('usage errors exit 2 with one line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['type 0', ['msgq', 'send', '1', '-t', '0', 'x'], /invalid message type '0'/],
    ['type abc', ['msgq', 'recv', '1', '-t', 'abc'], /invalid message type 'abc'/],
    ['a non-numeric id', ['msgq', 'recv', 'myqueue'], /invalid id 'myqueue'/],
    ['an unknown option', ['msgq', 'recv', '1', '--bogus'], /unknown option '--bogus'/],
    ['mode 999', ['msgq', 'create', '-m', '999'], /invalid mode '999'/],
    ['a bad duration', ['msgq', 'recv', '1', '--timeout', 'soon'], /invalid duration 'soon'/],
    ['no id at all', ['msgq', 'recv'], /missing ID/],
    ['--count 0', ['msgq', 'recv', '1', '-n', '0'], /invalid count '0'/],
    ['a bad key', ['msgq', 'create', '-k', '0xZZ'], /invalid key '0xZZ'/],
  ];
  badInputCases(cases.map(([name, args, message]): [string, string[], number, RegExp] => [name, args, 2, message]));
});

describe('objects that are not there', () => {
  it('a queue that does not exist: exit 4, EINVAL', () => {
    const r = ipcctl(['msgq', 'recv', '2147480000', '--nowait']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ipcctl: msgq recv 2147480000: EINVAL, no such queue\n$/);
  });

  it('a key that has no queue: exit 4, ENOENT', () => {
    const r = ipcctl(['msgq', 'stat', '-k', '0x4bfffff1']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('a queue removed while recv waits: exit 4, EIDRM', async () => {
    const id = newQueue();
    const { child, done } = ipcctlAsync(['msgq', 'recv', String(id)]);
    await waitUntilInMsgrcv(child.pid!);
    expect(ipcctl(['msgq', 'rm', String(id)]).code).toBe(0);
    const r = await done;
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`ipcctl: msgq recv ${id}: EIDRM, the queue was removed\n`);
  });

  it('--exclusive on an existing key: exit 1, EEXIST', () => {
    const key =
      '0x4c' +
      Math.floor(Math.random() * 0xffffff)
        .toString(16)
        .padStart(6, '0');
    newQueue(['-k', key, '-x']);
    const r = ipcctl(['msgq', 'create', '-k', key, '-x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EEXIST/);
  });
});

describe('limits are named, and nothing is half-sent', () => {
  it('a message above msgmax is refused before sending, naming the limit', () => {
    const id = newQueue();
    const msgmax = Number(readFileSync('/proc/sys/kernel/msgmax', 'utf8'));
    const r = ipcctl(['msgq', 'send', String(id)], { input: Buffer.alloc(msgmax + 1, 65) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`msgmax=${msgmax}`);
    expect(stat(id).qnum).toBe(0);
  });

  it("a message above the queue's byte limit is refused, naming it", () => {
    const id = newQueue();
    expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '100']).code).toBe(0);
    const r = ipcctl(['msgq', 'send', String(id), 'x'.repeat(101)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/above the queue's limit of 100 bytes/);
  });

  it('send --lines --nowait into a full queue says how many it sent, and exactly those are there', () => {
    const id = newQueue();
    expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '100']).code).toBe(0);
    const lines = Array.from({ length: 30 }, (_, i) => `line-${String(i).padStart(5, '0')}`).join('\n');
    const r = ipcctl(['msgq', 'send', String(id), '--lines', '--nowait'], { input: lines });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/EAGAIN, the queue is full; sent 10 messages/);
    expect(stat(id)).toMatchObject({ qnum: 10, cbytes: 100 });
    const got = ipcctl(['msgq', 'recv', String(id), '--all']);
    expect(got.stdout).toBe(lines.split('\n').slice(0, 10).join('\n') + '\n');
  });

  it('a message larger than --max-size stays on the queue; --truncate cuts it', () => {
    const id = newQueue();
    send(id, 'abcdefghij');
    const r = ipcctl(['msgq', 'recv', String(id), '--max-size', '4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E2BIG.*4 bytes.*stays on the queue/);
    expect(stat(id).qnum).toBe(1);
    const t = ipcctl(['msgq', 'recv', String(id), '--max-size', '4', '--truncate']);
    expect(t.stdout).toBe('abcd');
    expect(stat(id).qnum).toBe(0);
  });
});

describe('waiting', () => {
  it('--nowait on an empty queue exits 3; --all on an empty queue exits 0', () => {
    const id = newQueue();
    expect(ipcctl(['msgq', 'recv', String(id), '--nowait']).code).toBe(3);
    const all = ipcctl(['msgq', 'recv', String(id), '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe('');
  });

  it('--timeout expires with exit 124', () => {
    const id = newQueue();
    const r = ipcctl(['msgq', 'recv', String(id), '--timeout', '300ms']);
    expect(r.code).toBe(124);
    expect(r.stderr).toBe(`ipcctl: msgq recv ${id}: timed out after 300ms\n`);
  });

  it('a waiting recv gets a message sent later', async () => {
    const id = newQueue();
    const { child, done } = ipcctlAsync(['msgq', 'recv', String(id), '-t', '4']);
    await waitUntilInMsgrcv(child.pid!);
    send(id, 'not this one', 3);
    send(id, 'late', 4);
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('late');
    expect(stat(id).qnum).toBe(1);
  });

  it('SIGINT during a blocking recv exits 130 and takes no message', async () => {
    const id = newQueue();
    const { child, done } = ipcctlAsync(['msgq', 'recv', String(id)]);
    await waitUntilInMsgrcv(child.pid!);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    send(id, 'after');
    expect(stat(id).qnum).toBe(1);
  });

  it('--peek copies without removing', () => {
    const id = newQueue();
    send(id, 'first', 1);
    send(id, 'second', 2);
    const r = ipcctl(['--json', 'msgq', 'recv', String(id), '--peek', '--all']);
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).text),
    ).toEqual(['first', 'second']);
    expect(ipcctl(['msgq', 'recv', String(id), '--peek', '-t', '2']).stdout).toBe('second');
    expect(stat(id).qnum).toBe(2);
  });
});

describe('a reader that closes early', () => {
  it('recv puts the message back with its type and says so', async () => {
    const id = newQueue();
    send(id, 'keep me', 5);
    const r = await runWithClosedStdout(['msgq', 'recv', String(id)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/output closed; put 1 message back on the queue/);
    const back = JSON.parse(ipcctl(['--json', 'msgq', 'recv', String(id), '--nowait']).stdout);
    expect(back).toEqual({ type: 5, size: 7, text: 'keep me' });
  });

  it('recv --all puts back every message it could not write, in order', async () => {
    const id = newQueue();
    send(id, 'a', 1);
    send(id, 'b', 2);
    send(id, 'c', 3);
    const r = await runWithClosedStdout(['msgq', 'recv', String(id), '--all']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/put 3 messages back/);
    const back = ipcctl(['--json', 'msgq', 'recv', String(id), '--all'])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(back.map((m) => [m.type, m.text])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });
});

describe('permission', () => {
  // setpriv drops to nobody; root itself is never refused.
  const asNobody = (args: string[]) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', IPCCTL, ...args]);

  it("EACCES exits 5 and names the queue's owner and mode", () => {
    const id = newQueue(['-m', '0600']);
    const r = asNobody(['msgq', 'recv', String(id), '--nowait']);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(`ipcctl: msgq recv ${id}: EACCES, permission denied (queue ${id} belongs to root (uid 0), mode 0600; you are uid 65534)\n`);
  });

  it('EPERM on rm exits 5 and the queue stays', () => {
    const id = newQueue(['-m', '0666']);
    const r = asNobody(['msgq', 'rm', String(id)]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/EPERM, not permitted/);
    expect(stat(id).id).toBe(id);
  });
});

describe('help', () => {
  it('--help into a reader that closes early ends quietly with exit 0', () => {
    const r = run('bash', ['-c', `${IPCCTL} msgq recv --help | head -1; echo "rc=\${PIPESTATUS[0]}"`]);
    expect(r.stdout).toBe('Usage: ipcctl msgq recv [options] [id]\nrc=0\n');
    expect(r.stderr).toBe('');
  });
});
