// The struct layouts in src/native are checked against the C headers of this
// machine, as Go's x/sys/unix does: a C probe prints offsetof/sizeof of every
// field we use, and each must equal what src/native/layouts.ts says.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allLayouts } from '../src/native/layouts.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probeSource(): string {
  const lines = [
    '#define _GNU_SOURCE',
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <sys/types.h>',
    '#include <sys/ipc.h>',
    '#include <sys/msg.h>',
    '#include <sys/shm.h>',
    '#include <sys/sem.h>',
    '#include <time.h>',
    '#include <poll.h>',
    '#include <sys/socket.h>',
    '#include <sys/uio.h>',
    '#include <sys/un.h>',
    '#include <netinet/in.h>',
    '#include <mqueue.h>',
    'int main(void) {',
  ];
  for (const [name, { ctype, layout }] of Object.entries(allLayouts)) {
    lines.push(`  printf("%s size %zu\\n", "${name}", sizeof(${ctype}));`);
    for (const field of Object.keys(layout.fields)) {
      lines.push(`  printf("%s.%s %zu\\n", "${name}", "${field}", offsetof(${ctype}, ${field}));`);
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

function runProbe(): Map<string, number> {
  const src = join(dir, 'probe.c');
  const exe = join(dir, 'probe');
  writeFileSync(src, probeSource());
  execFileSync('gcc', ['-Wall', '-o', exe, src]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  const facts = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const cut = line.lastIndexOf(' ');
    facts.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return facts;
}

describe('struct layouts match the C headers', () => {
  const facts = runProbe();
  for (const [name, { layout }] of Object.entries(allLayouts)) {
    it(`${name}: size and every field offset`, () => {
      expect(facts.get(`${name} size`), `sizeof ${name}`).toBe(layout.size);
      for (const [field, offset] of Object.entries(layout.fields)) {
        expect(facts.get(`${name}.${field}`), `offsetof ${name}.${field}`).toBe(offset);
      }
    });
  }
});
