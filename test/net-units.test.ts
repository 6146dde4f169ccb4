// Unit tests of the pieces under serve --exec, --crlf and --hexdump.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { programFor, splitCommand } from '../src/ipc/net/program.js';
import { crlfTransform } from '../src/ipc/net/stream.js';
import { TrafficDump } from '../src/output/traffic.js';
import { run } from './helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-units16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('splitCommand (--exec words, no expansion)', () => {
  it.each([
    ['cat', ['cat']],
    ['  tr  a-z   A-Z ', ['tr', 'a-z', 'A-Z']],
    [`sh -c 'echo "$X" | wc'`, ['sh', '-c', 'echo "$X" | wc']],
    [`printf "%s\\n" "a b" c`, ['printf', '%s\\n', 'a b', 'c']],
    [`a\\ b ''`, ['a b', '']],
    [`echo "q\\"uote"`, ['echo', 'q"uote']],
  ])('%s', (text, words) => expect(splitCommand(text)).toEqual(words));

  it('an open quote is a usage error', () => {
    expect(() => splitCommand(`cat 'x`)).toThrow(/unterminated/);
  });

  it('programFor finds argv[0] in PATH once, and --sh is /bin/sh -c', () => {
    const p = programFor('tcp serve', 'cat -u', undefined);
    expect(p.argv).toEqual(['cat', '-u']);
    expect(p.file).toMatch(/\/cat$/);
    expect(programFor('tcp serve', undefined, 'echo hi')).toEqual({ argv: ['/bin/sh', '-c', 'echo hi'], file: '/bin/sh' });
    expect(() => programFor('tcp serve', 'no-such-program-16', undefined)).toThrow(/not found/);
  });
});

describe('crlfTransform (--crlf)', () => {
  it('turns LF into CR LF, leaves CR LF alone, also across chunks', () => {
    const t = crlfTransform();
    const out = [t(Buffer.from('a\nb\r')), t(Buffer.from('\nc\n\n'))].map((b) => b.toString()).join('');
    expect(out).toBe('a\r\nb\r\nc\r\n\r\n');
  });
});

describe('TrafficDump (-x)', () => {
  it('each chunk is a marker line and exactly `hexdump -C -s OFFSET -n SIZE` of its stream', () => {
    const file = join(dir, 'dump.txt');
    const d = new TrafficDump(file);
    const stream = Buffer.concat([randomBytes(37), Buffer.alloc(64, 7), randomBytes(5)]);
    const cuts = [0, 37, 101, 106];
    for (let i = 0; i < cuts.length - 1; i++) d.chunk('received', stream.subarray(cuts[i], cuts[i + 1]), 'conn 2');
    d.close();
    const streamFile = join(dir, 'stream.bin');
    writeFileSync(streamFile, stream);
    const want = cuts
      .slice(0, -1)
      .map(
        (at, i) =>
          `< conn 2: ${cuts[i + 1]! - at} bytes received, offset ${at}\n` +
          run('hexdump', ['-C', '-s', String(at), '-n', String(cuts[i + 1]! - at), streamFile]).stdout,
      )
      .join('');
    expect(readFileSync(file, 'utf8')).toBe(want);
  });
});
