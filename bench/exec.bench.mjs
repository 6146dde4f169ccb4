// A program per connection, and publish/subscribe fan-out, against socat and ncat.
//  exec:   connections per second through `--exec cat`: connect, send 100
//          bytes, read the 100 echoed, close; one client (this
//          process, 4 connections in flight) for every server, a fixed number
//          of connections per round. ipcctl `tcp serve --exec cat --keep-open`
//          vs `socat TCP-LISTEN:P,fork,reuseaddr EXEC:cat` vs
//          `ncat -l -k -e /bin/cat`. Rounds interleaved; the median counts.
//  broker: messages per second delivered to 10 subscribers: a publisher
//          sends 20,000 lines of 100 bytes; timed until every subscriber has
//          every byte; after a warm-up, 5 publishes per server (median).
//          ipcctl `tcp serve --broker` vs `ncat --broker`.
// Every run is bounded (a hard timeout per round) and uses a fresh port.
// Environment: ROUNDS (3), CONNS (600), ONLY=exec|broker (one half), and
// BASELINE=/path/to/another/bin/ipcctl to time that build too, in the same
// run (before/after a change, back to back).
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { IPCCTL, median, row } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNS = Number(process.env.CONNS ?? 600);
const INFLIGHT = 4;
const HARD_MS = 30_000;
// ONLY=exec or ONLY=broker runs one half.
const ONLY = process.env.ONLY ?? '';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

async function waitListening(port) {
  for (let i = 0; i < 400; i++) {
    if (spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() !== '') return;
    await sleep(10);
  }
  throw new Error(`nothing listens on ${port}`);
}

function startServer(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), HARD_MS * 2);
  const done = new Promise((r) => child.on('close', () => (clearTimeout(timer), r())));
  return { child, done };
}

const payload = Buffer.alloc(100, 0x61);

function oneConnection(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = 0;
    // Send, read the whole echo, close: no half-close (ncat -e ends a
    // connection at the client's FIN before the child's answer is sent).
    s.on('connect', () => s.write(payload));
    s.on('data', (d) => {
      got += d.length;
      if (got >= payload.length) s.destroy();
    });
    s.on('error', reject);
    s.on('close', () => (got === payload.length ? resolve() : reject(new Error(`echo of ${got} bytes`))));
  });
}

/** Connections per second against a server on `port`. */
async function connsPerSecond(port) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + HARD_MS;
  const worker = async () => {
    while (next < CONNS) {
      if (Date.now() > deadline) throw new Error('round over its time bound');
      next++;
      await oneConnection(port);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  return CONNS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

// BASELINE=/path/to/another/bin/ipcctl adds that build as one more server
// (before/after a change, in the same run).
const BASELINE = process.env.BASELINE;
const execServers = {
  'ipcctl tcp serve --exec cat': (p) => [IPCCTL, ['tcp', 'serve', '--port', String(p), '--exec', 'cat', '--keep-open']],
  ...(BASELINE ? { 'baseline ipcctl --exec cat': (p) => [BASELINE, ['tcp', 'serve', '--port', String(p), '--exec', 'cat', '--keep-open']] } : {}),
  'socat TCP-LISTEN,fork EXEC:cat': (p) => ['socat', [`TCP-LISTEN:${p},fork,reuseaddr`, 'EXEC:cat']],
  'ncat -k -e /bin/cat': (p) => ['ncat', ['-l', '-k', '-e', '/bin/cat', '127.0.0.1', String(p)]],
};

async function measureExec(make) {
  const port = await freePort();
  const [cmd, args] = make(port);
  const srv = startServer(cmd, args);
  try {
    await waitListening(port);
    await oneConnection(port); // warm: the first child of a server pays for page cache misses
    return await connsPerSecond(port);
  } catch (e) {
    throw new Error(`${cmd}: ${e.message}`);
  } finally {
    srv.child.kill('SIGTERM');
    await srv.done;
  }
}

const SUBSCRIBERS = 10;
const MESSAGES = 20_000;
const line = Buffer.from('m'.repeat(99) + '\n');

/**
 * Messages per second delivered to all subscribers through a broker on
 * `port`: one warm-up publish (TCP windows grow, the JIT warms), then
 * PUBLISHES timed ones through the same subscribers; their median.
 */
const PUBLISHES = 5;
async function fanOut(port) {
  const want = MESSAGES * line.length;
  const subs = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const s = net.connect(port, '127.0.0.1');
    const sub = { s, got: 0 };
    s.on('data', (d) => (sub.got += d.length));
    s.on('error', () => {});
    await new Promise((r) => s.on('connect', r));
    subs.push(sub);
  }
  await sleep(300); // every join seen by the broker before the first message
  const rates = [];
  const block = Buffer.concat(Array.from({ length: MESSAGES }, () => line));
  for (let round = 0; round <= PUBLISHES; round++) {
    const pub = net.connect(port, '127.0.0.1');
    pub.on('error', () => {});
    await new Promise((r) => pub.on('connect', r));
    const t0 = process.hrtime.bigint();
    pub.write(block);
    const deadline = Date.now() + HARD_MS;
    while (subs.some((s) => s.got < want * (round + 1))) {
      if (Date.now() > deadline) throw new Error(`fan-out incomplete: ${subs.map((s) => s.got).join(',')} of ${want * (round + 1)}`);
      await sleep(1);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (round > 0) rates.push((MESSAGES * SUBSCRIBERS) / secs);
    pub.destroy();
    await sleep(50); // the publisher's leave, before the next one joins
  }
  for (const s of subs) s.s.destroy();
  return median(rates);
}

const brokers = {
  'ipcctl tcp serve --broker': (p) => [IPCCTL, ['tcp', 'serve', '--port', String(p), '--broker', '--max-queue', '64M']],
  ...(BASELINE ? { 'baseline ipcctl --broker': (p) => [BASELINE, ['tcp', 'serve', '--port', String(p), '--broker', '--max-queue', '64M']] } : {}),
  'ncat --broker': (p) => ['ncat', ['-l', '--broker', '127.0.0.1', String(p)]],
};

async function measureBroker(make) {
  const port = await freePort();
  const [cmd, args] = make(port);
  const srv = startServer(cmd, args);
  try {
    await waitListening(port);
    return await fanOut(port);
  } finally {
    srv.child.kill('SIGTERM');
    await srv.done;
  }
}

async function main() {
  console.log(`(2 shared cores: figures are noisy; ${ROUNDS} interleaved rounds, medians)`);
  if (ONLY !== 'broker') await execPart();
  if (ONLY !== 'exec') await brokerPart();
}

async function execPart() {
  const exec = Object.fromEntries(Object.keys(execServers).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, make] of Object.entries(execServers)) exec[k].push(await measureExec(make));
  const e = Object.fromEntries(Object.entries(exec).map(([k, v]) => [k, median(v)]));
  console.log(`connections/s through a program per connection (${CONNS} per round, ${INFLIGHT} in flight):`);
  const me = e['ipcctl tcp serve --exec cat'];
  for (const [k, v] of Object.entries(e)) row(k, v, 'conn/s', k.startsWith('ipcctl') ? undefined : me / v);
  console.log('(ratio = ipcctl / peer; above 1 means ipcctl is faster)');
}

async function brokerPart() {
  const fan = Object.fromEntries(Object.keys(brokers).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, make] of Object.entries(brokers)) fan[k].push(await measureBroker(make));
  const f = Object.fromEntries(Object.entries(fan).map(([k, v]) => [k, median(v)]));
  console.log(`broker fan-out to ${SUBSCRIBERS} subscribers (${MESSAGES} messages of ${line.length} bytes):`);
  const mb = f['ipcctl tcp serve --broker'];
  for (const [k, v] of Object.entries(f)) row(k, v, 'msg/s', k.startsWith('ipcctl') ? undefined : mb / v);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
