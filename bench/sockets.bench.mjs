// Sockets against socat and nc, on loopback only.
//  TCP: 1 GiB from `head -c` through each client into each server > /dev/null,
//       timed from the client's start until the server has exited (every
//       byte delivered). Rounds are interleaved; the median counts.
//       Every tool pays the same fixed costs in the window: head's 4 KiB
//       writes into the pipe (~0.4 core-s per GiB, a third process on a
//       2-core box) and the client's start-up (node: ~0.1 s; nc, socat: ~1 ms).
//  UDP: 64-byte datagrams for about 5 seconds, `ipcctl udp send --count N`
//       into `ipcctl udp listen`, and socat into socat. N is calibrated so the
//       send takes ~5 s; received = bytes on the listener's stdout / 64.
//  UDP --json: the same burst (BURST 64-byte datagrams from `ipcctl udp send
//       --count`) into `ipcctl udp listen` and `ipcctl --json udp listen`:
//       datagrams received (bytes / 64, or JSON lines) and dropped (what the
//       listener reports from the socket's drop counter). Rounds interleaved.
// Every run is bounded (a hard timeout per command) and uses a fresh port.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { IPCCTL, median, row } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const GIB = 1 << 30;
const HARD_MS = 120_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function bound(proto, port) {
  return spawnSync('ss', [`-l${proto}nH`, `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() !== '';
}

async function waitBound(proto, port) {
  for (let i = 0; i < 400; i++) {
    if (bound(proto, port)) return;
    await sleep(10);
  }
  throw new Error(`nothing bound to ${proto} port ${port}`);
}

/** Start a shell command in the background; resolves with [exit code, stdout]. */
function background(cmd) {
  const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), HARD_MS);
  const done = new Promise((r) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      r([code, out]);
    }),
  );
  return { child, done };
}

// Each relay runs under GNU time, which writes its CPU seconds (user, system)
// to a file: on 2 cores the relays, head and the kernel's loopback work all
// share the CPUs, so wall-clock rates hide how much CPU each relay needs;
// with a core each, that CPU is what would bound the rate.
const cpuDir = mkdtempSync(join(tmpdir(), 'ipcctl-sockets-bench-'));
const timed = (file, cmd) => `/usr/bin/time -f '%U %S %M' -o ${join(cpuDir, file)} ${cmd}`;
const tcpTools = {
  ipcctl: {
    server: (p) => `exec ${timed('server', `${IPCCTL} tcp serve --port ${p}`)} > /dev/null`,
    client: (p) => `head -c ${GIB} /dev/zero | ${timed('client', `${IPCCTL} tcp connect 127.0.0.1 ${p}`)}`,
  },
  'socat->socat': {
    server: (p) => `exec ${timed('server', `socat -u TCP-LISTEN:${p},bind=127.0.0.1,reuseaddr -`)} > /dev/null`,
    client: (p) => `head -c ${GIB} /dev/zero | ${timed('client', `socat -u - TCP:127.0.0.1:${p}`)}`,
  },
  'nc->nc': {
    server: (p) => `exec ${timed('server', `nc -l 127.0.0.1 ${p}`)} > /dev/null`,
    client: (p) => `head -c ${GIB} /dev/zero | ${timed('client', `nc -N 127.0.0.1 ${p}`)}`,
  },
};

/** CPU seconds (user + system) and peak resident MiB that GNU time wrote for one side. */
function usageOf(file) {
  const [u, sys, kb] = readFileSync(join(cpuDir, file), 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { cpu: u + sys, mib: kb / 1024 };
}

async function tcpOnce(tool) {
  const port = await freePort();
  const srv = background(tool.server(port));
  await waitBound('t', port);
  const t0 = process.hrtime.bigint();
  const c = spawnSync('bash', ['-c', tool.client(port)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: HARD_MS });
  const [code] = await srv.done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (c.status !== 0 || code !== 0) throw new Error(`tcp run failed (client ${c.status}, server ${code})`);
  const client = usageOf('client');
  const server = usageOf('server');
  return { secs: s, client: client.cpu, server: server.cpu, clientMiB: client.mib, serverMiB: server.mib };
}

async function tcp() {
  console.log(`TCP: 1 GiB through loopback, median of ${ROUNDS} interleaved rounds`);
  const runs = Object.fromEntries(Object.keys(tcpTools).map((k) => [k, []]));
  try {
    for (let i = 0; i < ROUNDS; i++) for (const [k, t] of Object.entries(tcpTools)) runs[k].push(await tcpOnce(t));
  } finally {
    rmSync(cpuDir, { recursive: true, force: true });
  }
  const of = (k, what) => median(runs[k].map((r) => r[what]));
  const rate = Object.fromEntries(Object.keys(runs).map((k) => [k, GIB / 1e6 / of(k, 'secs')]));
  for (const k of Object.keys(tcpTools)) row(`tcp ${k}`, rate[k], 'MB/s', k === 'ipcctl' ? undefined : rate.ipcctl / rate[k]);
  console.log(
    `ipcctl / nc = ${(rate.ipcctl / rate['nc->nc']).toFixed(2)}x (target >= 1.5x), ipcctl / socat = ${(rate.ipcctl / rate['socat->socat']).toFixed(2)}x`,
  );
  console.log("CPU seconds per GiB (median), client + server; ratio = the peer's CPU / ipcctl's:");
  const cpu = (k) => of(k, 'client') + of(k, 'server');
  for (const k of Object.keys(tcpTools)) {
    row(
      `  ${k}: client ${of(k, 'client').toFixed(2)} + server ${of(k, 'server').toFixed(2)}`,
      cpu(k),
      'cpu-s',
      k === 'ipcctl' ? undefined : cpu(k) / cpu('ipcctl'),
    );
  }
  console.log('peak memory (resident, median), client / server:');
  for (const k of Object.keys(tcpTools)) console.log(`  ${k.padEnd(14)} ${of(k, 'clientMiB').toFixed(1)} / ${of(k, 'serverMiB').toFixed(1)} MiB`);
}

const udpTools = {
  ipcctl: {
    listener: (p) => `${IPCCTL} udp listen --port ${p} --timeout 1s 2>/dev/null | wc -c`,
    sender: (p, n) => `${IPCCTL} udp send 127.0.0.1 ${p} --count ${n} ${'x'.repeat(64)}`,
  },
  'socat->socat': {
    listener: (p) => `socat -T 1 -u -b 65536 UDP-RECV:${p},bind=127.0.0.1 - | wc -c`,
    // -b 64: every 64-byte read of the pipe becomes one datagram.
    sender: (p, n) => `head -c ${64 * n} /dev/zero | socat -u -b 64 - UDP-SENDTO:127.0.0.1:${p}`,
  },
};

async function udpOnce(tool, n) {
  const port = await freePort();
  const lis = background(tool.listener(port));
  await waitBound('u', port);
  const t0 = process.hrtime.bigint();
  const s = spawnSync('bash', ['-c', tool.sender(port, n)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: HARD_MS });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const [, out] = await lis.done;
  if (s.status !== 0) throw new Error(`udp sender failed (${s.status})`);
  const received = Math.floor(Number(out.trim()) / 64);
  return { secs, sent: n, received };
}

async function udp() {
  console.log('UDP: 64-byte datagrams for ~5 s each');
  const results = {};
  for (const [k, tool] of Object.entries(udpTools)) {
    // Calibrate: how many can this sender push in about 5 seconds?
    const probe = await udpOnce(tool, 50_000);
    const n = Math.max(50_000, Math.min(50_000_000, Math.round((50_000 / probe.secs) * 5)));
    results[k] = await udpOnce(tool, n);
  }
  for (const [k, r] of Object.entries(results)) {
    const perSec = r.received / r.secs;
    const drops = r.sent - r.received;
    row(`udp ${k} received`, perSec, 'dgram/s', k === 'ipcctl' ? undefined : results.ipcctl.received / results.ipcctl.secs / perSec);
    console.log(`  sent ${r.sent} in ${r.secs.toFixed(2)} s, received ${r.received}, dropped ${drops} (${((100 * drops) / r.sent).toFixed(1)}%)`);
  }
  const ratio = results.ipcctl.received / results.ipcctl.secs / (results['socat->socat'].received / results['socat->socat'].secs);
  console.log(`ipcctl / socat received rate = ${ratio.toFixed(2)}x (target >= 2x)`);
}

const BURST = Number(process.env.BURST ?? 200_000);

/** One burst into one listener: what it received and what it says the kernel dropped. */
async function burstInto(json) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-udp-'));
  try {
    const err = join(dir, 'err');
    const outFile = join(dir, 'out');
    // --json says what was dropped in its last line ({"event":"end",...}), raw on stderr.
    const count = json ? `tee ${outFile} | grep -c '"size"'` : 'wc -c';
    const lis = background(`${IPCCTL} ${json ? '--json ' : ''}udp listen --port ${port} --timeout 1s 2>${err} | ${count}`);
    await waitBound('u', port);
    const t0 = process.hrtime.bigint();
    const s = spawnSync(IPCCTL, ['udp', 'send', '127.0.0.1', String(port), '--count', String(BURST), 'x'.repeat(64)], { stdio: 'ignore', timeout: HARD_MS });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const [, out] = await lis.done;
    if (s.status !== 0) throw new Error(`udp sender failed (${s.status})`);
    const n = Number(out.trim());
    const received = json ? n : Math.floor(n / 64);
    const m = json ? /"dropped":(\d+)/.exec(readFileSync(outFile, 'utf8').slice(-200)) : /(\d+) dropped/.exec(readFileSync(err, 'utf8'));
    return { secs, received, dropped: m ? Number(m[1]) : 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function udpJson() {
  console.log(`UDP --json against raw: one burst of ${BURST} 64-byte datagrams, ${ROUNDS} rounds interleaved (medians)`);
  const runs = { raw: [], json: [] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.raw.push(await burstInto(false));
    runs.json.push(await burstInto(true));
  }
  const med = (k, f) => median(runs[k].map((r) => r[f]));
  for (const k of ['raw', 'json']) {
    row(`udp listen ${k === 'json' ? '--json' : '(raw)'} received`, med(k, 'received'), 'dgrams');
    console.log(
      `  dropped (reported) ${med(k, 'dropped')}; received + dropped = ${med(k, 'received') + med(k, 'dropped')} of ${BURST}; send took ${med(k, 'secs').toFixed(2)} s`,
    );
    console.log(`  rounds: ${runs[k].map((r) => `${r.received}/${r.dropped}`).join(', ')} (received/dropped)`);
  }
  console.log(`--json / raw received = ${(med('json', 'received') / med('raw', 'received')).toFixed(2)}x (target >= 1: --json loses no more)`);
}

const which = process.argv[2];
if (!which || which === 'tcp') await tcp();
if (!which || which === 'udp') await udp();
if (!which || which === 'udp-json') await udpJson();
