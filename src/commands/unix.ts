// ipcctl unix serve|connect PATH: the behaviour of `tcp serve`/`tcp connect`
// on a UNIX domain socket, plus --dgram for datagrams. The socket file is
// removed when the server ends (also on Ctrl-C); a stale file from a dead
// server is replaced, a live server's is left alone. @NAME is the abstract
// namespace (no file at all).
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { writeStderr } from '../output/sink.js';
import { preloadSpinner } from '../output/spinner.js';
import { settings } from '../output/style.js';
import { asCount } from './common/args.js';
import { readAll, readRecords } from './common/input.js';
import { addConnectOptions, addStreamServeOptions, checkServeFlags, datagramPrinter, serveReporter, withHexdump } from './common/sockets.js';
import { checkModeFlags, type ModeFlags, runMode, wantsMode } from './common/serve-modes.js';
import { quietOnClosedOutput, runConnect } from './common/connect.js';
import { ServeFeedback, waitingForDatagrams } from './common/feedback.js';

interface ServeFlags extends ModeFlags {
  hexdump?: string | boolean;
  dgram?: boolean;
  count?: number;
  lines?: boolean;
}

function checkPath(op: string, path: string): void {
  if (path === '' || path === '@') throw new UsageError(`${op}: empty socket path`);
}

async function serve(path: string, opts: ServeFlags) {
  const op = 'unix serve';
  checkPath(op, path);
  checkServeFlags(op, opts);
  checkModeFlags(op, opts);
  const mode = wantsMode(opts);
  if (mode && opts.dgram) throw new UsageError(`${op}: --exec, --sh, --broker and --chat are for stream sockets, not --dgram`);
  if (!opts.dgram && (opts.count !== undefined || opts.lines)) throw new UsageError(`${op}: --count and --lines are for --dgram`);
  if (opts.dgram && (opts.keepOpen || opts.maxConns !== undefined || opts.linger !== undefined)) {
    throw new UsageError(`${op}: --keep-open, --max-conns and --linger are for stream sockets, not --dgram`);
  }
  if (opts.dgram && opts.progress) throw new UsageError(`${op}: --progress is for stream sockets, not --dgram`);
  const spinnerReady = preloadSpinner();
  const { formatAddress, addressFields } = await import('../ipc/net/address.js');
  const unixpath = await import('../ipc/net/unixpath.js');
  const address = { family: 'unix' as const, path };
  unixpath.prepare(op, path);
  let claim: import('../ipc/net/unixpath.js').Claim | null = null;
  const afterBind = () => {
    claim = unixpath.claim(address);
  };
  const feedback = new ServeFeedback(op, opts.progress, Boolean(opts.keepOpen), formatAddress);
  const { TrafficDump } = await import('../output/traffic.js');
  const dump = opts.hexdump !== undefined && !mode ? new TrafficDump(opts.hexdump as string) : null;
  const waiting = waitingForDatagrams();
  await spinnerReady;
  try {
    await quietOnClosedOutput(async () => {
      if (mode) {
        await runMode(mode, { op, address, reuseaddr: false, showListening: false, afterBind }, opts);
        return;
      }
      if (opts.dgram) {
        const { listen } = await import('../ipc/net/datagram.js');
        const print = datagramPrinter(op, opts, addressFields, formatAddress);
        await listen({
          op,
          address,
          count: opts.count,
          idleMs: opts.timeout,
          echo: Boolean(opts.echo),
          afterBind,
          deliver: (batch) => {
            waiting.stop();
            print(batch);
          },
          onListening: (local) => {
            if (opts.verbose && !settings.json) writeStderr(`ipcctl: ${op}: listening on ${formatAddress(local)}\n`);
            waiting.listening(formatAddress(local));
          },
        });
        return;
      }
      const { serve } = await import('../ipc/net/stream.js');
      await serve({
        op,
        address,
        backlog: opts.backlog,
        reuseaddr: false,
        linger: opts.linger,
        keepOpen: Boolean(opts.keepOpen),
        maxConns: opts.maxConns,
        echo: Boolean(opts.echo),
        idleMs: opts.timeout,
        output: settings.json ? null : 1,
        afterBind,
        events: feedback.wrap(withHexdump(serveReporter(op, Boolean(opts.verbose), false, formatAddress, addressFields), dump, Boolean(opts.echo))),
        meter: feedback.meter,
      });
    });
  } finally {
    waiting.stop();
    feedback.end();
    dump?.close();
    unixpath.release(claim);
  }
}

interface ConnectFlags {
  source?: string;
  sourcePort?: string;
  send?: string;
  timeout?: number;
  zero?: boolean;
  linger?: number;
  verbose?: boolean;
  dgram?: boolean;
  lines?: boolean;
  count?: number;
  progress?: boolean;
}

async function connect(path: string, text: string[], opts: ConnectFlags) {
  const op = 'unix connect';
  checkPath(op, path);
  const address = { family: 'unix' as const, path };
  if (opts.sourcePort !== undefined) throw new UsageError(`${op}: --source-port is for TCP: a UNIX socket has no port (use --source PATH)`);
  if (!opts.dgram) {
    if (text.length > 0) throw new UsageError(`${op}: TEXT is for --dgram; use --send TEXT`);
    if (opts.lines || opts.count !== undefined) throw new UsageError(`${op}: --lines and --count are for --dgram`);
    return runConnect(op, address, { ...opts, sourcePort: undefined });
  }
  if (opts.zero) throw new UsageError(`${op}: -z is for stream sockets`);
  if (opts.source !== undefined) throw new UsageError(`${op}: --source is for stream sockets, not --dgram`);
  if (opts.progress) throw new UsageError(`${op}: --progress is for stream sockets, not --dgram`);
  const { send } = await import('../ipc/net/datagram.js');
  const words = opts.send !== undefined ? [opts.send, ...text] : text;
  const payloads: Iterable<Buffer> = words.length > 0 ? [Buffer.from(words.join(' '))] : opts.lines ? readRecords(10) : [readAll()];
  const r = await send({ op, to: address, payloads, count: opts.count ?? 1, timeoutMs: opts.timeout });
  if (settings.json) printJson({ path, sent: r.sent });
  else if (opts.verbose) writeStderr(`ipcctl: ${op}: ${r.sent} datagram${r.sent === 1 ? '' : 's'} to ${path}\n`);
}

export function register(program: Command): void {
  const unix = program
    .command('unix')
    .description('UNIX domain sockets: serve and connect, stream by default, --dgram for datagrams')
    .addHelpText('after', '\nExample:\n  ipcctl unix serve /tmp/lab.sock > got.txt &  echo hi | ipcctl unix connect /tmp/lab.sock');

  addStreamServeOptions(
    unix
      .command('serve')
      .description('listen on a socket file (removed at exit); what clients send goes to stdout')
      .argument('<path>', 'socket file, or @NAME for the abstract namespace')
      .option('--dgram', 'a datagram socket (SOCK_DGRAM): one datagram per send')
      .addOption(program.createOption('-n, --count <n>', 'with --dgram: exit after N datagrams').argParser(asCount))
      .option('--lines', 'with --dgram: end each datagram with a newline on stdout'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl unix serve /tmp/lab.sock --echo --keep-open\n  ipcctl unix serve /tmp/lab.sock --keep-open --exec cat\n  ipcctl unix serve /tmp/lab.sock --broker -v\n  ipcctl unix serve --dgram /tmp/lab.dgram -n 3 --lines',
    )
    .action(serve);

  addConnectOptions(
    unix
      .command('connect')
      .description('connect to a socket file; send stdin (or --send), print the reply until the peer closes')
      .argument('<path>', 'socket file, or @NAME')
      .argument('[text...]', 'with --dgram: the datagram; stdin when absent')
      .option('-s, --source <path>', 'bind our end to this socket file (or @NAME) before connecting; the file is removed afterwards')
      .option('--source-port <port>', 'refused: a UNIX socket has no port (use --source PATH)')
      .option('--dgram', 'send datagrams (SOCK_DGRAM) instead of a stream')
      .option('--lines', 'with --dgram: one datagram per line of stdin')
      .addOption(program.createOption('--count <n>', 'with --dgram: send each datagram N times').argParser(asCount)),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  echo hello | ipcctl unix connect /tmp/lab.sock\n  echo hello | ipcctl unix connect --source /tmp/me.sock /tmp/lab.sock\n  ipcctl unix connect --dgram /tmp/lab.dgram "one datagram"',
    )
    .action(connect);
}
