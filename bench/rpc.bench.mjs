// ONC RPC and XDR: NULL-call round trips per second over UDP and TCP against
// rpcbind, for `ipcctl rpc call --count N` in one process, a C client built
// here with rpcgen and libtirpc in one process, and one process per call
// (ipcctl rpc call vs rpcinfo -u/-t); then XDR encoding throughput of
// `ipcctl xdr encode` against Python's struct.pack of the same bytes.
// Needs root for rpcbind when none runs (started here, stopped by pid at the end).
// Bounded: a few thousand calls per figure. The machine is shared: numbers are noisy.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPCCTL, median, row, timeShell } from './lib.mjs';

const fixtures = fileURLToPath(new URL('../test/fixtures/rpc/', import.meta.url));
const N = 5000; // calls in one process
const M = 20; // processes, one call each
const ROUNDS = 3;

const up = () => spawnSync('rpcinfo', ['-p', '127.0.0.1'], { stdio: 'ignore' }).status === 0;
let rpcbind = null;
if (!up()) {
  rpcbind = spawn('rpcbind', ['-w', '-f'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !up(); i++) spawnSync('sleep', ['0.05']);
  if (!up()) throw new Error('could not start rpcbind (run as root)');
}

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-rpc-'));
try {
  writeFileSync(join(dir, 'test.x'), readFileSync(join(fixtures, 'test.x.in'), 'utf8').replace('} = PROGNUM;', '} = 0x20000fff;'));
  for (const [cmd, args] of [
    ['rpcgen', ['test.x']],
    ['gcc', ['-O2', '-I/usr/include/tirpc', '-I.', '-o', 'client', 'test_clnt.c', 'test_xdr.c', join(fixtures, 'client.c'), '-ltirpc']],
  ]) {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  }
  const client = join(dir, 'client');

  console.log(`NULL calls to rpcbind (program 100000 version 2) on 127.0.0.1, medians of ${ROUNDS} rounds`);
  for (const proto of ['udp', 'tcp']) {
    const flag = proto === 'udp' ? '-u' : '-t';
    const ours = [];
    const c = [];
    const ourProcs = [];
    const rpcinfo = [];
    const inside = [];
    for (let i = 0; i < ROUNDS; i++) {
      ours.push(timeShell(`${IPCCTL} rpc call 127.0.0.1 100000 2 0 --${proto} --port 111 --count ${N}`));
      // The rate of the calls alone, without Node's start-up: what -v reports.
      const v = spawnSync(IPCCTL, ['rpc', 'call', '127.0.0.1', '100000', '2', '0', `--${proto}`, '--port', '111', '--count', String(N), '-v'], {
        encoding: 'utf8',
      });
      inside.push(Number(/ ([0-9]+) calls\/s/.exec(v.stderr)[1]));
      c.push(timeShell(`${client} 127.0.0.1 100000 ${proto} null ${N} 2`));
      ourProcs.push(timeShell(`for i in $(seq ${M}); do ${IPCCTL} rpc call 127.0.0.1 100000 2 0 --${proto} --port 111; done`));
      rpcinfo.push(timeShell(`for i in $(seq ${M}); do rpcinfo ${flag} 127.0.0.1 100000 2 >/dev/null; done`));
    }
    const oneProc = N / (median(ours) / 1000);
    const callsOnly = median(inside);
    const cRate = N / (median(c) / 1000);
    const perProc = M / (median(ourProcs) / 1000);
    const rpcinfoRate = M / (median(rpcinfo) / 1000);
    console.log(`-- ${proto}`);
    row(`ipcctl rpc call --count ${N} (1 process)`, oneProc, 'calls/s');
    row(`rpcgen C client, ${N} calls (1 process)`, cRate, 'calls/s', oneProc / cRate);
    row(`ipcctl, the calls alone (its -v rate)`, callsOnly, 'calls/s', callsOnly / cRate);
    row(`ipcctl rpc call, 1 process per call`, perProc, 'calls/s');
    row(`rpcinfo ${flag}, 1 process per call`, rpcinfoRate, 'calls/s', perProc / rpcinfoRate);
  }
  console.log("(ratio = ipcctl / peer; ipcctl's one-process figure includes its start-up, ~0.1-0.2 s, spread over the calls)");

  // XDR encoding: 50,000 int arguments (one argument may hold at most 128 KiB,
  // so not one int[] of them all), ipcctl vs Python's struct.pack.
  const K = 50_000;
  const argFile = join(dir, 'arg');
  writeFileSync(argFile, Array.from({ length: K }, (_, i) => `int:${i - 25_000}`).join(' '));
  const py = `import struct,sys; n=${K}; sys.stdout.buffer.write(struct.pack('>%di' % n, *[i - 25000 for i in range(n)]))`;
  const a = spawnSync('bash', ['-c', `${IPCCTL} xdr encode $(cat ${argFile}) | sha1sum`], { encoding: 'utf8' }).stdout;
  const b = spawnSync('/usr/bin/python3', ['-c', py + '\n'], { encoding: 'buffer' });
  const bSum = spawnSync('sha1sum', [], { input: b.stdout, encoding: 'utf8' }).stdout;
  if (a.split(' ')[0] !== bSum.split(' ')[0]) throw new Error('ipcctl and Python encode different bytes');
  const enc = [];
  const pyt = [];
  const dec = [];
  const encoded = join(dir, 'encoded');
  writeFileSync(encoded, b.stdout);
  for (let i = 0; i < ROUNDS; i++) {
    enc.push(timeShell(`${IPCCTL} xdr encode $(cat ${argFile}) > /dev/null`));
    pyt.push(timeShell(`/usr/bin/python3 -c "${py}" > /dev/null`));
    dec.push(timeShell(`${IPCCTL} xdr decode 'int[${K}]' < ${encoded} > /dev/null`));
  }
  const bytes = 4 * K;
  const start = median(Array.from({ length: ROUNDS }, () => timeShell('node -e 0')));
  console.log(`XDR: ${K} int values (${bytes} bytes), medians of ${ROUNDS} (same bytes checked); node -e 0 takes ${start.toFixed(0)} ms here`);
  row('ipcctl xdr encode', median(enc), 'ms');
  row('python3 struct.pack', median(pyt), 'ms', median(enc) / median(pyt));
  row('ipcctl xdr decode', median(dec), 'ms');
  row('ipcctl xdr encode, values/s beyond node -e 0', K / (Math.max(1, median(enc) - start) / 1000), 'values/s');
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (rpcbind) {
    rpcbind.kill('SIGTERM');
    for (const f of ['/run/rpcbind/rpcbind.xdr', '/run/rpcbind/portmap.xdr']) rmSync(f, { force: true });
  }
}
