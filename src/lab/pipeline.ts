// pipeline: the camera case study. Five processes joined by four message
// queues:
//
//   sensor --triggers--> capture --images--> process --results--> writer --reports--> mailer
//
// The sensor triggers every --interval; capture takes a picture (a few
// hundred bytes); image processing takes --process-time per picture; the
// writer stores each result as a file in a temporary directory; the mailer
// e-mails a report for each file, and when a mail fails (the first
// --mail-failures attempts do) it retries with a growing pause, so no report
// is lost. Processing slower than the triggers makes the images queue grow:
// the lab samples the depth (msg_qnum) of every queue while it runs.
// An "end" message travels down the pipeline after the last trigger.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageQueue } from '../ipc/sysv/msgq.js';
import { Deadline } from '../ipc/wait.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';
import { delay } from '../timer.js';

export interface PipelineOptions {
  triggers: number;
  intervalMs: number;
  processMs: number;
  mailFailures: number;
}

const QUEUES = ['triggers', 'images', 'results', 'reports'] as const;
const IMAGE_BYTES = 512;
const CAPACITY = 4096;
/** Message types: a frame, or the end of the stream. */
const FRAME = 1;
/** Depth samples: taken every 50 ms, printed at most this often. */
const PRINT_MS = 100;
const END = 2;

interface StageArgs {
  input: number | null;
  output: number | null;
  triggers: number;
  intervalMs: number;
  processMs: number;
  mailFailures: number;
  dir: string;
}

// delay(): --interval and --process-time may be longer than one setTimeout holds.
const sleep = (ms: number) => delay(ms);
const forever = () => new Deadline(undefined);

/** Receive frames from `input` until the end message; pass the end on. */
async function stage(args: StageArgs, onFrame: (data: Buffer) => Buffer | null | Promise<Buffer | null>): Promise<number> {
  const input = MessageQueue.fromId(args.input!);
  const output = args.output === null ? null : MessageQueue.fromId(args.output);
  let n = 0;
  for (;;) {
    const msg = await input.receive(CAPACITY, { type: 0, except: false, truncate: false, nowait: false, deadline: forever() });
    if (!msg) continue;
    if (msg.type === END) {
      await output?.send(Buffer.alloc(0), { type: END, nowait: false, deadline: forever() });
      return n;
    }
    const out = await onFrame(msg.data);
    if (out && output) await output.send(out, { type: FRAME, nowait: false, deadline: forever() });
    n++;
  }
}

async function sensor(ctx: WorkerContext<StageArgs>): Promise<{ frames: number }> {
  const { triggers, intervalMs } = ctx.args;
  const out = MessageQueue.fromId(ctx.args.output!);
  await ctx.message('go');
  for (let n = 1; n <= triggers; n++) {
    await out.send(Buffer.from(JSON.stringify({ n, at: Date.now() })), { type: FRAME, nowait: false, deadline: forever() });
    if (n < triggers) await sleep(intervalMs);
  }
  await out.send(Buffer.alloc(0), { type: END, nowait: false, deadline: forever() });
  return { frames: triggers };
}

/** A picture: frame number (4 bytes) then bytes that depend on it. */
async function capture(ctx: WorkerContext<StageArgs>): Promise<{ frames: number }> {
  ctx.ready();
  const frames = await stage(ctx.args, (data) => {
    const { n } = JSON.parse(data.toString()) as { n: number };
    const image = Buffer.alloc(IMAGE_BYTES, n & 0xff);
    image.writeUInt32LE(n, 0);
    return image;
  });
  return { frames };
}

async function processing(ctx: WorkerContext<StageArgs>): Promise<{ frames: number }> {
  ctx.ready();
  const frames = await stage(ctx.args, async (image) => {
    await sleep(ctx.args.processMs);
    const n = image.readUInt32LE(0);
    let sum = 0;
    for (const b of image) sum = (sum + b) & 0xffff;
    return Buffer.from(JSON.stringify({ n, checksum: sum, motion: n % 3 === 0 }));
  });
  return { frames };
}

async function writer(ctx: WorkerContext<StageArgs>): Promise<{ frames: number }> {
  ctx.ready();
  const frames = await stage(ctx.args, (data) => {
    const { n } = JSON.parse(data.toString()) as { n: number };
    const path = join(ctx.args.dir, `frame-${String(n).padStart(5, '0')}.json`);
    writeFileSync(path, data);
    return Buffer.from(JSON.stringify({ n, path }));
  });
  return { frames };
}

/** "Sends" one e-mail per report; the first mailFailures attempts fail. */
async function mailer(ctx: WorkerContext<StageArgs>): Promise<{ sent: number[]; attempts: number; failures: number }> {
  ctx.ready();
  let failuresLeft = ctx.args.mailFailures;
  let attempts = 0;
  const sent: number[] = [];
  await stage(ctx.args, async (data) => {
    const { n } = JSON.parse(data.toString()) as { n: number };
    for (let attempt = 1, pause = 10; ; attempt++, pause = Math.min(pause * 2, 200)) {
      attempts++;
      if (failuresLeft > 0) {
        failuresLeft--;
        ctx.note(`mail for frame ${n} failed (attempt ${attempt}); retrying in ${pause} ms`);
        await sleep(pause);
        continue;
      }
      sent.push(n);
      return null;
    }
  });
  return { sent, attempts, failures: ctx.args.mailFailures - failuresLeft };
}

export const roles = { sensor, capture, processing, writer, mailer };

export async function run(lab: LabRun, opts: PipelineOptions): Promise<LabResult> {
  const { triggers, intervalMs, processMs, mailFailures } = opts;
  lab.say(
    `${triggers} triggers, one every ${intervalMs} ms; processing takes ${processMs} ms a picture${processMs > intervalMs ? ', slower than the triggers' : ''}; the first ${mailFailures} mail attempt${mailFailures === 1 ? '' : 's'} fail`,
    'step',
  );
  const queues: MessageQueue[] = [];
  for (let i = 0; i < QUEUES.length; i++) queues.push(await lab.queue());
  const dir = lab.tempDir();
  lab.say(`message queues: ${QUEUES.map((name, i) => `${name} ${queues[i]!.id}`).join(', ')}; files go to ${dir}`);
  const base = { triggers, intervalMs, processMs, mailFailures, dir };
  const ids = queues.map((q) => q.id);
  const link = (input: number | null, output: number | null): StageArgs => ({
    ...base,
    input: input === null ? null : ids[input]!,
    output: output === null ? null : ids[output]!,
  });
  const sensorChild = lab.spawn('sensor', link(null, 0), 'sensor');
  const stages = [
    lab.spawn('capture', link(0, 1), 'capture'),
    lab.spawn('processing', link(1, 2), 'processing'),
    lab.spawn('writer', link(2, 3), 'writer'),
    lab.spawn('mailer', link(3, null), 'mailer'),
  ];
  await lab.wait(Promise.all(stages.map((s) => s.ready)));
  lab.say(
    `all stages run (pids ${[sensorChild, ...stages].map((c) => c.pid).join(', ')}); watch the queues from another terminal with: ipcctl ls --watch msgq`,
    'step',
  );
  const start = Date.now();
  sensorChild.send('go');

  // Sample the depth of every queue while frames flow; print it when it changes.
  const maxDepth = [0, 0, 0, 0];
  const samples: Array<{ s: number; depths: number[] }> = [];
  let done = false;
  const mailed = stages[3]!.result.finally(() => (done = true));
  let last = '';
  let lastPrinted = 0;
  while (!done) {
    const depths = queues.map((q) => q.stat('lab pipeline').qnum);
    depths.forEach((d, i) => (maxDepth[i] = Math.max(maxDepth[i]!, d)));
    const line = QUEUES.map((name, i) => `${name} ${depths[i]}${depths[i]! > 0 ? ' ' + '#'.repeat(Math.min(depths[i]!, 40)) : ''}`).join(', ');
    // At most one line per PRINT_MS, and only when something changed.
    if (line !== last && Date.now() - lastPrinted >= PRINT_MS) {
      lastPrinted = Date.now();
      samples.push({ s: seconds(Date.now() - start), depths });
      lab.say(`queue depth: ${line}`);
      last = line;
    }
    await lab.wait(Promise.race([mailed.catch(() => {}), new Promise((r) => setTimeout(r, 50))]));
  }
  const mail = (await lab.wait(mailed)) as { sent: number[]; attempts: number; failures: number };
  await lab.wait(Promise.all([sensorChild.result, ...stages.map((s) => s.result)]));
  const elapsedMs = Date.now() - start;
  const files = readdirSync(dir).length;
  const reports = new Set(mail.sent).size;
  lab.say(`the images queue grew to ${maxDepth[1]} pictures waiting for processing`, maxDepth[1]! > 1 ? 'step' : 'info');
  lab.say(`${files} files written; ${reports} reports mailed in ${mail.attempts} attempts (${mail.failures} failed and were retried)`);
  const ok = reports === triggers && mail.sent.length === triggers && files === triggers;
  const verdict = ok
    ? `every one of the ${triggers} triggers became one file and one mailed report; ${mail.failures} failed mail${mail.failures === 1 ? ' was' : 's were'} retried, none lost`
    : `${triggers} triggers but ${reports} reports and ${files} files`;
  return {
    lab: 'pipeline',
    ok,
    verdict,
    seconds: seconds(elapsedMs),
    triggers,
    reports,
    files,
    mailAttempts: mail.attempts,
    mailFailures: mail.failures,
    maxDepth: Object.fromEntries(QUEUES.map((q, i) => [q, maxDepth[i]])),
    samples: samples.length,
  };
}
