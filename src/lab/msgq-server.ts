// msgq-server: one queue, one server, N clients. A client sends requests
// with type 1 and its pid in the payload; the server answers each with
// type = that pid, and each client receives only its own type. It works
// because every client plays by the rules: the kernel does not check who
// receives a type. With --thief a rogue client receives with another
// client's pid as the type and takes that client's replies.
//
// Each reply carries the pid it was meant for, so a receiver can tell a
// misdelivered reply from its own. To make the theft certain (not a matter
// of which waiter the kernel wakes first), the victim, client 1, collects its
// replies last: the thief goes first, while they wait in the queue.
import { MessageQueue } from '../ipc/sysv/msgq.js';
import { RepeatedOps } from '../ipc/sysv/sem-repeat.js';
import { Deadline } from '../ipc/wait.js';
import { TimeoutError } from '../errors.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';

export interface MsgqServerOptions {
  clients: number;
  requests: number;
  thief: boolean;
}

const REQUEST = 1;
/** Semaphores: start gate, replies sent so far, the thief's turn, the victim's turn. */
const GATE = 0;
const SERVED = 1;
const THIEF_TURN = 2;
const VICTIM_TURN = 3;
const CAPACITY = 1024;

interface Request {
  pid: number;
  n: number;
  stop?: true;
}
interface Reply {
  to: number;
  n: number;
  answer: number;
}

const recvOpts = (type: number, deadline: Deadline, nowait = false) => ({ type, except: false, truncate: false, nowait, deadline });

function decode<T>(data: Buffer): T {
  return JSON.parse(data.toString()) as T;
}

async function server(ctx: WorkerContext<{ q: number; sem: number }>): Promise<{ served: number }> {
  const q = MessageQueue.fromId(ctx.args.q);
  const served = new RepeatedOps(ctx.args.sem, [{ num: SERVED, op: 1 }], { undo: false });
  const forever = new Deadline(undefined);
  let n = 0;
  ctx.ready();
  for (;;) {
    const msg = await q.receive(CAPACITY, recvOpts(REQUEST, forever));
    if (!msg) continue;
    const req = decode<Request>(msg.data);
    if (req.stop) return { served: n };
    const reply: Reply = { to: req.pid, n: req.n, answer: req.n * req.n };
    await q.send(Buffer.from(JSON.stringify(reply)), { type: req.pid, nowait: false, deadline: forever });
    n++;
    served.tryNow();
  }
}

interface ClientResult {
  pid: number;
  received: number;
  misdelivered: number;
  missing: number;
}

async function client(ctx: WorkerContext<{ q: number; sem: number; requests: number; victim: boolean }>): Promise<ClientResult> {
  const { sem, requests, victim } = ctx.args;
  const q = MessageQueue.fromId(ctx.args.q);
  const forever = new Deadline(undefined);
  await new RepeatedOps(sem, [{ num: GATE, op: -1 }], { undo: false }).apply();
  const ask = (n: number) =>
    q.send(Buffer.from(JSON.stringify({ pid: process.pid, n } satisfies Request)), { type: REQUEST, nowait: false, deadline: forever });
  let received = 0;
  let misdelivered = 0;
  const judge = (data: Buffer) => (decode<Reply>(data).to === process.pid ? received++ : misdelivered++);
  if (victim) {
    // The slow client: it sends all its requests, and collects only when the
    // lab says so, after the thief; by then every reply was sent, so it takes
    // what is left without waiting.
    for (let n = 1; n <= requests; n++) await ask(n);
    await new RepeatedOps(sem, [{ num: VICTIM_TURN, op: -1 }], { undo: false }).apply();
    for (let msg; (msg = q.receiveNow(CAPACITY, recvOpts(process.pid, forever, true)));) judge(msg.data);
  } else {
    // The classic client: ask, wait for the answer of its own type, repeat.
    try {
      for (let n = 1; n <= requests; n++) {
        await ask(n);
        const msg = await q.receive(CAPACITY, recvOpts(process.pid, new Deadline(10_000)));
        if (msg) judge(msg.data);
      }
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
    }
  }
  return { pid: process.pid, received, misdelivered, missing: requests - received };
}

async function thief(ctx: WorkerContext<{ q: number; sem: number; victim: number }>): Promise<{ stolen: number; meantFor: number[] }> {
  const q = MessageQueue.fromId(ctx.args.q);
  await new RepeatedOps(ctx.args.sem, [{ num: THIEF_TURN, op: -1 }], { undo: false }).apply();
  const meantFor: number[] = [];
  // msgrcv with the victim's pid as the type: the kernel does not ask who we are.
  for (let msg; (msg = q.receiveNow(CAPACITY, recvOpts(ctx.args.victim, new Deadline(undefined), true)));) {
    meantFor.push(decode<Reply>(msg.data).to);
  }
  return { stolen: meantFor.length, meantFor };
}

export const roles = { server, client, thief };

export async function run(lab: LabRun, opts: MsgqServerOptions): Promise<LabResult> {
  const { clients, requests, thief: withThief } = opts;
  const total = clients * requests;
  lab.say(
    `one server and ${clients} client${clients === 1 ? '' : 's'} share one queue: requests go with type ${REQUEST}, each reply with type = the client's pid${withThief ? '; a thief joins' : ''}`,
    'step',
  );
  const q = await lab.queue();
  const sem = await lab.semaphores([0, 0, 0, 0]);
  lab.say(`message queue ${q.id}; semaphore set ${sem.id}: #0 start gate, #1 replies sent, #2 thief's turn, #3 client 1's turn`);
  const srv = lab.spawn('server', { q: q.id, sem: sem.id }, 'server');
  const cl = Array.from({ length: clients }, (_, i) =>
    lab.spawn('client', { q: q.id, sem: sem.id, requests, victim: withThief && i === 0 }, `client ${i + 1}`),
  );
  const rogue = withThief ? lab.spawn('thief', { q: q.id, sem: sem.id, victim: cl[0]!.pid }, 'thief') : null;
  await lab.wait(srv.ready);
  await lab.expect(() => sem.get('ncnt', GATE) === clients, `all ${clients} clients waiting at the start gate`, 30_000);
  lab.say(`server pid ${srv.pid}; clients pid ${cl.map((c) => c.pid).join(', ')}${rogue ? `; thief pid ${rogue.pid}` : ''}`);
  const start = Date.now();
  sem.setVal(GATE, clients);
  lab.say(`clients send ${requests} request${requests === 1 ? '' : 's'} each`, 'step');
  await lab.until(() => sem.get('val', SERVED) >= total, { everyMs: 5 });
  lab.say(`the server sent all ${total} replies`);

  let stolen: { stolen: number; meantFor: number[] } | null = null;
  if (rogue) {
    const waiting = q.stat('lab msgq-server').qnum;
    lab.say(
      `the queue holds ${waiting} message${waiting === 1 ? '' : 's'}, client 1's replies (type ${cl[0]!.pid}) among them; the thief receives with that type`,
      'step',
    );
    sem.setVal(THIEF_TURN, 1);
    stolen = (await lab.wait(rogue.result)) as { stolen: number; meantFor: number[] };
    lab.say(
      `the thief took ${stolen.stolen} repl${stolen.stolen === 1 ? 'y' : 'ies'} meant for pid ${[...new Set(stolen.meantFor)].join(', ') || 'nobody'}`,
      stolen.stolen > 0 ? 'bad' : 'info',
    );
    sem.setVal(VICTIM_TURN, 1);
  }
  const results = (await lab.wait(Promise.all(cl.map((c) => c.result)))) as ClientResult[];
  results.forEach((r, i) =>
    lab.say(
      `client ${i + 1} (pid ${r.pid}) got ${r.received} of its ${requests} replies${r.misdelivered ? `, and ${r.misdelivered} meant for others` : ''}`,
      r.received === requests ? 'info' : 'bad',
    ),
  );
  q.sendNow(Buffer.from(JSON.stringify({ pid: 0, n: 0, stop: true } satisfies Request)), REQUEST);
  const served = ((await lab.wait(srv.result)) as { served: number }).served;
  const elapsedMs = Date.now() - start;

  const replies = results.reduce((n, r) => n + r.received, 0);
  const misdelivered = results.reduce((n, r) => n + r.misdelivered, 0) + (stolen?.meantFor.filter((pid) => pid !== rogue!.pid).length ?? 0);
  const ok = withThief ? misdelivered > 0 && replies + misdelivered === total : replies === total && misdelivered === 0;
  let verdict: string;
  if (!withThief)
    verdict = ok ? `all ${total} replies reached their own client` : `${replies} of ${total} replies reached their own client, ${misdelivered} misdelivered`;
  else
    verdict = ok
      ? `the thief took ${misdelivered} repl${misdelivered === 1 ? 'y' : 'ies'} meant for client 1: nothing stops a process from receiving another's type; the design trusts its clients`
      : `expected the thief to take replies: ${misdelivered} misdelivered, ${replies} delivered of ${total}`;
  return { lab: 'msgq-server', ok, verdict, seconds: seconds(elapsedMs), replies, misdelivered, requests: total, served, clients, thief: withThief };
}
