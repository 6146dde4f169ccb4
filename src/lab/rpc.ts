// rpc: the four elementary types of communication side by side, with a real
// client process and a real ONC RPC server process on loopback (UDP, no
// portmapper). The server takes a "work" procedure that needs --process-time
// to compute (a shell command that sleeps, then echoes); NULL it answers at
// once, as an acknowledgement of receipt.
//   1. asynchronous message: the client sends and goes on; nobody answers.
//   2. synchronous message: the client waits until the server has the message
//      (the NULL reply says "received"), not for any processing.
//   3. asynchronous request: the client sends the request, does --work of
//      its own meanwhile, and only then collects the reply.
//   4. synchronous request (RPC): the client waits for the reply, the whole
//      processing time included.
// The figures are how long the client was blocked in each.
import { createSocket } from 'node:dgram';
import { Caller } from '../ipc/rpc/call.js';
import { encodeCall, NO_AUTH, RPC_VERSION } from '../ipc/rpc/message.js';
import { serve } from '../ipc/rpc/server.js';
import { formatMs } from '../ipc/wait.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';

export interface RpcLabOptions {
  processMs: number;
  workMs: number;
}

const PROG = 0x20000000 + 0x4c4142; // "LAB"
const WORK = 2;

interface ServerArgs {
  port: number;
  processMs: number;
}

async function server(ctx: WorkerContext<ServerArgs>): Promise<void> {
  const { port, processMs } = ctx.args;
  const start = Date.now();
  await serve({
    op: 'lab rpc server',
    bind: { family: 'inet', address: '127.0.0.1', port },
    prog: PROG,
    versions: [1],
    udp: true,
    tcp: false,
    register: false,
    requireAuthSys: false,
    exec: `sleep ${processMs / 1000}; cat`,
    events: {
      listening: () => ctx.ready(),
      call: (_proto, _peer, log) =>
        ctx.note(
          `at ${Date.now() - start} ms answered procedure ${log.proc} (${log.proc === 0 ? 'NULL: "received"' : `work, after ${formatMs(processMs)} of processing`})`,
        ),
    },
  });
}

interface ClientArgs extends ServerArgs {
  workMs: number;
}

export interface Blocked {
  asyncMessage: number;
  syncMessage: number;
  asyncRequest: number;
  syncRequest: number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Busy for `ms`: the client's own computation, during which it reads no socket. */
function compute(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* working */
  }
}

async function client(ctx: WorkerContext<ClientArgs>): Promise<Blocked> {
  const { port, workMs } = ctx.args;
  const host = { family: 'inet' as const, address: '127.0.0.1', port };
  const spec = (proc: number, args: Buffer) => ({
    op: 'lab rpc client',
    host,
    port,
    proto: 'udp' as const,
    prog: PROG,
    vers: 1,
    proc,
    args,
    cred: NO_AUTH,
    timeoutMs: 30_000,
    retryMs: 5000,
  });
  ctx.ready();

  // 1. Asynchronous message: one datagram, no reply asked for or awaited.
  const { send } = await import('../ipc/net/datagram.js');
  const msg = encodeCall({ xid: 1, rpcvers: RPC_VERSION, prog: PROG, vers: 1, proc: 0, cred: NO_AUTH, verf: NO_AUTH }, Buffer.alloc(0));
  let t = performance.now();
  await send({ op: 'lab rpc client', to: host, payloads: [msg], count: 1 });
  const asyncMessage = performance.now() - t;
  ctx.note(`1 asynchronous message: sent and went on after ${asyncMessage.toFixed(1)} ms`);

  // 2. Synchronous message: blocked until the server says it has it.
  const ack = await Caller.open(spec(0, Buffer.alloc(0)));
  t = performance.now();
  await ack.call();
  const syncMessage = performance.now() - t;
  ack.close();
  ctx.note(`2 synchronous message: blocked ${syncMessage.toFixed(1)} ms, until the server had it`);

  const args = Buffer.from('0000000568656c6c6f000000', 'hex'); // string "hello"
  const work = await Caller.open(spec(WORK, args));
  try {
    // 3. Asynchronous request: the call goes out now; the reply is collected after our own work.
    const pending = work.call();
    compute(workMs);
    t = performance.now();
    await pending;
    const asyncRequest = performance.now() - t;
    ctx.note(`3 asynchronous request: worked ${formatMs(workMs)} meanwhile, then blocked ${asyncRequest.toFixed(1)} ms for the reply`);

    // 4. Synchronous request, the RPC: blocked for the whole processing.
    t = performance.now();
    const r = await work.call();
    const syncRequest = performance.now() - t;
    if (!r.results.equals(args)) throw new Error('the reply of the work procedure was not its argument');
    ctx.note(`4 synchronous request (RPC): blocked ${syncRequest.toFixed(1)} ms, processing included`);
    return { asyncMessage: round(asyncMessage), syncMessage: round(syncMessage), asyncRequest: round(asyncRequest), syncRequest: round(syncRequest) };
  } finally {
    work.close();
  }
}

export const roles = { server, client };

/** A UDP port free right now on 127.0.0.1 (the server binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function run(lab: LabRun, opts: RpcLabOptions): Promise<LabResult> {
  const { processMs, workMs } = opts;
  lab.say(
    `a client and an ONC RPC server, two processes on loopback UDP; the server's work procedure takes ${formatMs(processMs)}, the client has ${formatMs(workMs)} of work of its own`,
    'step',
  );
  const port = await freePort();
  const start = Date.now();
  const srv = lab.spawn('server', { port, processMs } satisfies ServerArgs, 'server');
  await lab.wait(srv.ready);
  lab.say(`server (pid ${srv.pid}) serves program ${PROG} on 127.0.0.1:${port}`);
  const cli = lab.spawn('client', { port, processMs, workMs } satisfies ClientArgs, 'client');
  const b = (await lab.wait(cli.result)) as Blocked;
  const elapsedMs = Date.now() - start;
  const small = processMs / 4;
  const expectAsync = Math.max(0, processMs - workMs);
  const checks = [
    [b.asyncMessage < small, `the asynchronous message blocked ${b.asyncMessage} ms (it should be next to nothing)`],
    [b.syncMessage < small, `the synchronous message blocked ${b.syncMessage} ms (only until receipt)`],
    [b.syncRequest >= processMs * 0.9, `the RPC blocked ${b.syncRequest} ms (at least the processing time)`],
    [
      b.asyncRequest <= b.syncRequest - Math.min(workMs, processMs) * 0.5,
      `the asynchronous request blocked ${b.asyncRequest} ms (about ${expectAsync} ms: processing minus own work)`,
    ],
  ] as const;
  for (const [ok, text] of checks) lab.say(text, ok ? 'good' : 'bad');
  const ok = checks.every(([c]) => c);
  const verdict = ok
    ? `only the synchronous request (RPC) blocks the client for the server's processing (${b.syncRequest} ms); an asynchronous request overlaps it with the client's own work, and messages block for no more than the transport`
    : 'the blocking times do not follow the four types (a very loaded machine?)';
  return { lab: 'rpc', ok, verdict, seconds: seconds(elapsedMs), blocked_ms: b, process_ms: processMs, work_ms: workMs };
}
