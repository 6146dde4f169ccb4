// The quick parser of batch lines (src/commands/common/quick-argv.ts) must
// call each action with exactly what commander would, or leave the line to
// commander. Checked on the whole generated bad-input corpus (every leaf,
// every option, bad values) and on the plain lines scripts send: the same
// program parses each line both ways, its actions replaced by recorders.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildFullProgram, quickParserFor } from '../src/cli.js';
import { settings } from '../src/output/style.js';
import { generateCorpus } from './bad-input-corpus.js';

const FILL: Record<string, string> = { '{Q}': '1', '{M}': '2', '{S}': '3', '{DIR}': '/tmp' };

async function recorded() {
  const program = await buildFullProgram();
  const calls: unknown[][] = [];
  const silent = { writeOut: () => {}, writeErr: () => {}, outputError: () => {} };
  const walk = (c: Command) => {
    c.configureOutput(silent);
    for (const sub of c.commands) {
      if (sub.commands.length === 0)
        sub.action((...args: unknown[]) => {
          calls.push(args.slice(0, -1)); // the Command itself last
        });
      walk(sub);
    }
  };
  walk(program);
  return { program, calls, quick: quickParserFor(program) };
}

/** What commander hands the action, or 'refused' when it does not call it. */
async function viaCommander(program: Command, calls: unknown[][], argv: string[]) {
  calls.length = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch {
    return 'refused';
  }
  return calls.length === 1 ? { args: calls[0], json: settings.json, color: settings.color } : 'refused';
}

const PLAIN = [
  'sem op -k 0x4b001 0:-1 --undo',
  'sem op 5 0:+1 1:-1 --nowait',
  'sem op --timeout 2s 5 0:-1',
  'sem op -k 0x4b001 0:-1 --undo --json',
  '--json sem stat 5',
  'sem stat --no-color -k 6699',
  'shm read -k 0x4b001',
  'shm read 7 --offset 1K --length=16',
  'shm read 7 --offset=1K --hex',
  'shm write -k 0x4b001 42',
  'shm write 7 hello world --offset 3',
  'shm write -k 0x4b001 -- -5',
  'msgq send 3 hello there --type 4',
  'msgq recv 3 --count 10 --nowait',
  'msgq recv 3 -n',
  'msgq stat -f /tmp --proj 7',
  'msgq create -k 0x4b002 -m 0640',
  'event set 9',
  'event wait 9:1 --timeout 0',
  'shm read -k',
  'sem op -k 0x1 --undo',
  'shm read 7 --offset',
  'shm read 7 --bogus',
  'shm read 7 -xz',
  'sem op 5 -1:-1',
  'shm read 7 8',
  'shm read 7 --help',
  'sem --version',
  'sem op --timeout forever 5 0:-1',
  'msgq recv 3 --count=-4',
].map((l) => l.split(' '));

describe('quick parse of batch lines', async () => {
  const { program, calls, quick } = await recorded();
  const corpus = generateCorpus(program).cases.map((c) => c.args.map((a) => a.replace(/\{[A-Z]+\}/g, (m) => FILL[m] ?? m)));

  it('calls every action as commander does, or leaves the line to commander', async () => {
    let taken = 0;
    const wrong: string[] = [];
    for (const argv of [...PLAIN, ...corpus]) {
      const expected = await viaCommander(program, calls, argv);
      const call = quick.parse(argv);
      if (call === null) continue;
      taken++;
      calls.length = 0;
      await call.run();
      const got = { args: calls[0], json: call.json, color: call.color };
      try {
        expect(got).toEqual(expected);
      } catch {
        wrong.push(`${argv.join(' ')}: quick ${JSON.stringify(got)} commander ${JSON.stringify(expected)}`);
      }
    }
    expect(wrong).toEqual([]);
    // The quick path is really taken (this test can fail both ways).
    expect(taken).toBeGreaterThan(100);
  });

  it('a line parsed again (remembered) calls the action with the same values, and what one call changes does not reach the next', async () => {
    const wrong: string[] = [];
    for (const argv of [...PLAIN, ...corpus]) {
      const expected = await viaCommander(program, calls, argv);
      const first = quick.parse(argv);
      if (first === null) continue;
      calls.length = 0;
      await first.run();
      // The first call's action spoils everything it was given.
      for (const a of calls[0]!) {
        if (Array.isArray(a)) a.splice(0, a.length, 'spoilt');
        else if (a && typeof a === 'object')
          for (const [k, v] of Object.entries(a)) (a as Record<string, unknown>)[k] = Array.isArray(v) ? v.splice(0, v.length, 'spoilt') : 'spoilt';
      }
      const again = quick.parse(argv)!;
      calls.length = 0;
      await again.run();
      try {
        expect({ args: calls[0], json: again.json, color: again.color }).toEqual(expected);
      } catch {
        wrong.push(argv.join(' '));
      }
    }
    expect(wrong).toEqual([]);
  });

  it('takes the lines of the README counter loop', () => {
    for (const line of ['sem op -k 0x4b001 0:-1 --undo', 'shm read -k 0x4b001', 'shm write -k 0x4b001 42']) {
      expect(quick.parse(line.split(' '))).not.toBeNull();
    }
  });

  it('leaves help, --version, -- and unknown flags to commander', () => {
    for (const line of ['shm read 7 --help', 'sem --version', 'shm write -k 0x4b001 -- -5', 'shm read 7 --bogus', 'shm read 7 -xz', 'sem op 5 -1:-1']) {
      expect(quick.parse(line.split(' '))).toBeNull();
    }
  });
});
