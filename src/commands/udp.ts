// ipcctl udp send|listen: datagrams, with their boundaries. `listen` takes
// datagrams from every sender (nc -u -l locks onto the first one); `send`
// sends stdin, TEXT, or each line as one datagram, --count times each.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { printJson } from '../output/json.js';
import { writeStderr } from '../output/sink.js';
import { preloadSpinner } from '../output/spinner.js';
import { settings } from '../output/style.js';
import { asCount, asDuration, parseSize } from './common/args.js';
import { EXIT, OperationError, UsageError } from '../errors.js';

const asDatagramSize = (v: string) => {
  const n = parseSize(v, 'datagram size');
  if (n < 1 || n > 65507) throw new UsageError(`invalid datagram size '${v}': from 1 to 65507 bytes`);
  return n;
};
import { InputTooLong, readAll, readAllUpTo, readRecords } from './common/input.js';
import { datagramPrinter, hexdumpBeforeOperands, reportListenEnd } from './common/sockets.js';
import { waitingForDatagrams } from './common/feedback.js';
import { quietOnClosedOutput } from './common/connect.js';
import {
  addListenExtras,
  addSendExtras,
  dumpDatagrams,
  listenTarget,
  openDump,
  runUdpExec,
  sendMulticast,
  type ListenExtras,
  type SendExtras,
} from './common/udp-extras.js';

interface ListenFlags extends ListenExtras {
  port: string;
  bind: string;
  count?: number;
  timeout?: number;
  echo?: boolean;
  lines?: boolean;
  reuseaddr?: boolean;
  verbose?: boolean;
}

async function listen(opts: ListenFlags) {
  const spinnerReady = preloadSpinner();
  const { parseHost, parsePort, formatAddress, addressFields } = await import('../ipc/net/address.js');
  const port = parsePort(opts.port, true);
  const target = await listenTarget(opts, await parseHost(opts.bind, port), port);
  const address = target.address;
  if (opts.exec !== undefined || opts.sh !== undefined) {
    if (opts.echo) throw new UsageError('udp listen: give --exec or --echo, not both');
    return quietOnClosedOutput(() => runUdpExec(opts, address, target.group, port === 0));
  }
  const { listen } = await import('../ipc/net/datagram.js');
  const print = datagramPrinter('udp listen', opts, addressFields, formatAddress);
  const dump = await openDump(opts);
  const dumpBatch = dumpDatagrams(dump, formatAddress);
  const waiting = waitingForDatagrams();
  await spinnerReady;
  try {
    await quietOnClosedOutput(async () => {
      await listen({
        op: 'udp listen',
        address,
        reuseaddr: Boolean(opts.reuseaddr),
        group: target.group,
        count: opts.count,
        idleMs: opts.timeout,
        echo: Boolean(opts.echo),
        deliver: (batch) => {
          waiting.stop(); // before the first datagram is printed
          dumpBatch(batch);
          print(batch);
        },
        onEnd: (stats) => reportListenEnd('udp listen', stats, Boolean(opts.verbose)),
        onListening: (local) => {
          // --port 0: the port is news to the user, also under --json (on stderr, so the JSON lines stay datagrams).
          if (opts.verbose || port === 0) writeStderr(`ipcctl: udp listen: listening on ${formatAddress(local)}\n`);
          waiting.listening(formatAddress(local));
        },
      });
    });
  } finally {
    waiting.stop();
    dump?.close();
  }
}

interface SendFlags extends SendExtras {
  lines?: boolean;
  chunk?: number;
  count?: number;
  broadcast?: boolean;
  timeout?: number;
  verbose?: boolean;
}

function* splitLines(data: Buffer): Generator<Buffer> {
  let start = 0;
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, start)) {
    yield data.subarray(start, at);
    start = at + 1;
  }
  if (start < data.length) yield data.subarray(start);
}

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

function* tapPayloads(payloads: Iterable<Buffer>, see: (p: Buffer) => void): Generator<Buffer> {
  for (const p of payloads) {
    see(p);
    yield p;
  }
}

async function send(host: string, portText: string, text: string[], opts: SendFlags) {
  if (opts.lines && opts.chunk !== undefined) throw new UsageError('udp send: give --lines or --chunk, not both');
  const { parseHost, parsePort, formatAddress } = await import('../ipc/net/address.js');
  const to = await parseHost(host, parsePort(portText, false));
  const { send, MAX_DATAGRAM } = await import('../ipc/net/datagram.js');
  // One datagram can never exceed what UDP carries: stdin is read only one byte past it.
  const max = MAX_DATAGRAM[(to as { address?: string }).address?.includes(':') ? 6 : 4];
  const multicast = await sendMulticast(opts, to);
  const dump = await openDump(opts);
  let r: Awaited<ReturnType<typeof send>>;
  try {
    const payloads: Iterable<Buffer> =
      text.length > 0
        ? opts.lines
          ? splitLines(Buffer.from(text.join(' ')))
          : [Buffer.from(text.join(' '))]
        : opts.lines
          ? readRecords(10, 0, max)
          : opts.chunk !== undefined
            ? chunks(readAll(), opts.chunk)
            : [readAllUpTo(max)];
    const dumped = dump ? tapPayloads(payloads, (p) => dump.chunk('sent', p)) : payloads;
    r = await send({ op: 'udp send', to, payloads: dumped, count: opts.count ?? 1, broadcast: Boolean(opts.broadcast), timeoutMs: opts.timeout, multicast });
  } catch (e) {
    if (e instanceof InputTooLong) {
      throw new OperationError(
        `udp send ${formatAddress(to)}: ${opts.lines ? 'a line of stdin' : 'stdin'} holds more than ${max} bytes, the largest UDP datagram; ${opts.lines ? 'the lines before it were sent' : 'nothing sent'}`,
        EXIT.FAILED,
      );
    }
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new OperationError(`udp send ${formatAddress(to)}: EISDIR, stdin is a directory`, EXIT.FAILED);
    throw e;
  } finally {
    dump?.close();
  }
  if (settings.json) printJson({ ...{ address: (to as { address: string }).address, port: (to as { port: number }).port }, sent: r.sent });
  else if (opts.verbose) writeStderr(`ipcctl: udp send: ${r.sent} datagram${r.sent === 1 ? '' : 's'} to ${formatAddress(to)}\n`);
}

export function register(program: Command): void {
  const udp = program
    .command('udp')
    .description('UDP datagrams: send and listen; each send is one datagram, boundaries kept')
    .addHelpText('after', '\nExample:\n  ipcctl udp listen --port 9000 --json &  ipcctl udp send 127.0.0.1 9000 hello');

  addListenExtras(udp.command('listen'))
    .description('receive datagrams from every sender; payloads to stdout')
    .addOption(program.createOption('-p, --port <port>', 'port (0: any free port, printed on stderr)').makeOptionMandatory())
    .addOption(program.createOption('-b, --bind <addr>', 'address to listen on: 0.0.0.0 or :: for every interface').default('127.0.0.1'))
    .addOption(program.createOption('-n, --count <n>', 'exit after N datagrams').argParser(asCount))
    .addOption(program.createOption('--timeout <dur>', 'exit 124 after DUR without a datagram').argParser(asDuration))
    .option('--echo', 'send each datagram back to its sender')
    .option('--lines', 'end each datagram with a newline on stdout')
    .option('--reuseaddr', 'SO_REUSEADDR')
    .option('-v, --verbose', 'report the address and each datagram on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl udp listen --port 9000 -n 1 > datagram.bin\n  ipcctl --json udp listen --port 9000 --timeout 10s\n  ipcctl udp listen --port 5007 --group 239.1.2.3 --lines\n  ipcctl udp listen --port 9000 --exec "tr a-z A-Z"',
    )
    .action(listen);

  hexdumpBeforeOperands(addSendExtras(udp.command('send')))
    .description('send TEXT, stdin, or each line (--lines) as one datagram')
    .argument('<host>', 'numeric address: 127.0.0.1, ::1, 255.255.255.255 with --broadcast')
    .argument('<port>', 'port')
    .argument('[text...]', 'the datagram; stdin when absent')
    .option('--lines', 'one datagram per line (newline stripped)')
    .addOption(program.createOption('--chunk <bytes>', 'cut stdin into datagrams of at most BYTES (e.g. a file)').argParser(asDatagramSize))
    .addOption(program.createOption('--count <n>', 'send each datagram N times (sendmmsg batches)').argParser(asCount))
    .option('--broadcast', 'allow a broadcast address (SO_BROADCAST)')
    .addOption(program.createOption('--timeout <dur>', 'give up when the socket stays full for DUR (exit 124)').argParser(asDuration))
    .option('-v, --verbose', 'report what was sent on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl udp send 127.0.0.1 9000 hello\n  seq 5 | ipcctl udp send 127.0.0.1 9000 --lines\n  ipcctl udp send 127.0.0.1 9000 --count 100000 ping\n  seq 3 | ipcctl udp send 239.1.2.3 5007 --lines --ttl 1',
    )
    .action(send);
}
