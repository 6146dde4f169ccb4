// ipcctl ls [KIND]: what exists, System V from /proc and POSIX from
// /dev/mqueue and /dev/shm (no ffi-rs on this path: `ipcctl ls` must start
// as fast as node itself; only a view that needs a queue's message count,
// which no file shows, loads libc). Facts come from ipc/procfs.ts and
// ipc/posix/listing.ts; the views (tables, JSON, limits, summary, watch,
// lsipc's -o/--raw/-n/-b) are built here from the column tables in
// ipc-columns.ts and posix-columns.ts.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { PosixObject, PosixQueueInfo } from '../ipc/posix/listing.js';
import { readObjects } from '../ipc/sysv/procfs.js';
import type { Selection } from '../ipc/sysv/select.js';
import { writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { renderRows, type RowsStyle } from '../output/rows.js';
import { asCount } from './common/args.js';
import { isAnyKindWord, type Kinds, kindsOf, type Report } from './common/ls-report.js';
import { type ObjectColumn, type View, columnNamed, tableColumns, toJsonDocument, COLUMNS, type JsonValue } from './common/ipc-columns.js';
import { addFilterOptions, type FilterOpts, hasFilter, parseAge, selectionFrom } from './common/select-options.js';

interface LsOpts extends FilterOpts {
  time?: boolean;
  pid?: boolean;
  creators?: boolean;
  limits?: boolean;
  summary?: boolean;
  watch?: string | boolean;
  count?: number;
  output?: string;
  raw?: boolean;
  headings?: boolean;
  bytes?: boolean;
}

// --- -o/--output ---------------------------------------------------------------

interface Chosen {
  sysv?: ObjectColumn[];
  posix?: import('./common/posix-columns.js').PosixColumn[];
}

/** `-o A,B` (exactly these) or `-o +A,B` (the view's, then these), per family. */
function chooseColumns(spec: string | undefined, view: View, kinds: Kinds, posixCols: typeof import('./common/posix-columns.js') | null): Chosen {
  if (spec === undefined) return {};
  const add = spec.startsWith('+');
  const names = (add ? spec.slice(1) : spec)
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`ls: -o '${spec}' names no column`);
  const sysv: ObjectColumn[] = [];
  const posix: import('./common/posix-columns.js').PosixColumn[] = [];
  for (const n of names) {
    const s = kinds.sysv.length > 0 ? columnNamed(n) : undefined;
    const p = kinds.posix.length > 0 ? posixCols?.posixColumnNamed(n) : undefined;
    if (!s && !p) {
      const known = [
        ...(kinds.sysv.length > 0 ? COLUMNS.map((c) => c.header) : []),
        ...(kinds.posix.length > 0 ? posixCols!.POSIX_COLUMNS.map((c) => c.header) : []),
      ];
      throw new UsageError(`ls: unknown column '${n}': use ${[...new Set(known)].join(', ')}`);
    }
    if (s) sysv.push(s);
    if (p) posix.push(p);
  }
  const sysvBase = add
    ? COLUMNS.filter((c) => c.views.includes(view)).filter((c) => (c.header === 'TYPE' ? kinds.sysv.length > 1 : c.kinds.some((k) => kinds.sysv.includes(k))))
    : [];
  const posixBase = add && posixCols ? posixCols.viewColumns(view, kinds.posix) : [];
  return { sysv: [...sysvBase, ...sysv.filter((c) => !sysvBase.includes(c))], posix: [...posixBase, ...posix.filter((c) => !posixBase.includes(c))] };
}

/** Keep only the chosen JSON fields of each record (-o with --json). */
function onlyFields(doc: Record<string, Array<Record<string, JsonValue>>>, fields: ReadonlySet<string>): Record<string, Array<Record<string, JsonValue>>> {
  const out: Record<string, Array<Record<string, JsonValue>>> = {};
  for (const [k, list] of Object.entries(doc)) out[k] = list.map((r) => Object.fromEntries(Object.entries(r).filter(([f]) => fields.has(f))));
  return out;
}

// --- objects -----------------------------------------------------------------

async function objectsReport(sel: Selection, kinds: Kinds, view: View, opts: LsOpts, style: RowsStyle): Promise<Report> {
  const sysvKinds = sel.kinds;
  // The filter module only when a filter is given: the plain `ls` loads as
  // few modules as it can (module loading is most of its time).
  const filtered = Object.keys(sel).length > 1;
  const { select } = filtered ? await import('../ipc/sysv/select.js') : { select: null };
  const sysvObjects = () => (sysvKinds.length === 0 ? [] : select ? select(readObjects(sysvKinds), sel) : readObjects(sysvKinds));

  const posix = kinds.posix.length > 0 ? await import('../ipc/posix/listing.js') : null;
  const posixCols = kinds.posix.length > 0 ? await import('./common/posix-columns.js') : null;
  const chosen = chooseColumns(opts.output, view, kinds, posixCols);
  if (posix && kinds.named && kinds.posix.includes('pmq') && !posix.mqueueMounted()) {
    if (kinds.posix.length === 1) throw posix.mqueueNotMounted();
  }
  // A queue's message count needs mq_getattr (libc): only when the user
  // named a POSIX kind, or chose a column that shows it.
  const counted = ['msgs', 'maxmsg', 'msgsize'];
  const wantsCounts = kinds.posix.includes('pmq') && (kinds.named || (chosen.posix ?? []).some((c) => counted.includes(c.json ?? '')));
  const posixObjects = (): PosixObject[] => {
    if (!posix) return [];
    const all = posix.readPosixObjects(kinds.posix);
    const list = filtered ? posix.selectPosix(all, sel) : all;
    if (wantsCounts) {
      const queues = list.filter((o): o is PosixQueueInfo => o.kind === 'pmq');
      if (queues.length > 0) (require('../ipc/posix/queue-counts.js') as typeof import('../ipc/posix/queue-counts.js')).countMessages(queues);
    }
    return list;
  };

  const sysvColumns = sysvKinds.length > 0 ? tableColumns(view, sysvKinds, { bytes: opts.bytes, chosen: chosen.sysv }) : [];
  const posixColumns = posixCols ? posixCols.posixTableColumns(view, kinds.posix, { bytes: opts.bytes, chosen: chosen.posix }) : [];
  const jsonFields =
    opts.output === undefined ? null : new Set([...(chosen.sysv ?? []), ...(chosen.posix ?? [])].map((c) => c.json).filter((j): j is string => Boolean(j)));
  return {
    json: () => {
      const doc = {
        ...(sysvKinds.length > 0 || kinds.posix.length === 0 ? toJsonDocument(sysvObjects(), sysvKinds) : {}),
        ...(posixCols ? posixCols.posixJsonDocument(posixObjects(), kinds.posix) : {}),
      };
      return jsonFields ? onlyFields(doc, jsonFields) : doc;
    },
    text: () => {
      const s = sysvObjects();
      const p = posixObjects();
      const parts: string[] = [];
      // Each family's table when it has objects; the System V one (headings
      // alone) when nothing exists at all, as before the POSIX kinds.
      const showSysv = sysvKinds.length > 0 && sysvColumns.length > 0 && (s.length > 0 || p.length === 0 || kinds.posix.length === 0);
      const showPosix = posixColumns.length > 0 && (p.length > 0 || sysvKinds.length === 0 || !showSysv);
      if (showSysv) parts.push(renderRows(s, sysvColumns, style));
      if (showPosix) parts.push(renderRows(p, posixColumns, style));
      return parts.join(style.raw ? '' : '\n');
    },
    serialize: (v, indent) => JSON.stringify(v, null, indent),
  };
}

// --- the command --------------------------------------------------------------

async function reportFor(kindArg: string | undefined, opts: LsOpts): Promise<Report> {
  const kinds = kindsOf(kindArg);
  const modes = [opts.limits && '--limits', opts.summary && '--summary', opts.time && '--time', opts.pid && '--pid', opts.creators && '--creators'].filter(
    Boolean,
  );
  if (modes.length > 1) throw new UsageError(`ls: give only one of ${modes.join(', ')}`);
  if ((opts.limits || opts.summary) && hasFilter(opts)) {
    throw new UsageError(`ls: ${opts.limits ? '--limits' : '--summary'} counts every object; the filters (--key, --owner, ...) do not apply`);
  }
  if ((opts.limits || opts.summary) && opts.output !== undefined)
    throw new UsageError(`ls: -o chooses object columns; ${opts.limits ? '--limits' : '--summary'} has its own`);
  const style: RowsStyle = { raw: Boolean(opts.raw), headings: opts.headings !== false };
  // Each of these views in its own module, loaded only for it: the plain
  // `ls` loads as few modules as it can.
  if (opts.limits) return (await import('./common/ls-limits.js')).limitsReport(kinds, opts, style);
  if (opts.summary) return (await import('./common/ls-summary.js')).summaryReport(kinds);
  const view: View = opts.time ? 'time' : opts.pid ? 'pid' : opts.creators ? 'creator' : 'default';
  const sel = kinds.sysv.length > 0 || !hasFilter(opts) ? selectionFrom(opts, kinds.sysv) : posixSelection(opts);
  return objectsReport(sel, kinds, view, opts, style);
}

/** The filters for a POSIX-only listing: --orphans and --creator name System V facts. */
function posixSelection(opts: LsOpts): Selection {
  if (opts.orphans) throw new UsageError('--orphans concerns System V shared memory segments only: POSIX objects record no creator');
  if (opts.creator !== undefined) throw new UsageError('--creator concerns System V segments only: POSIX objects record no creator pid');
  if (opts.key !== undefined) throw new UsageError('--key concerns System V objects only: POSIX objects have names');
  return selectionFrom(opts, []);
}

async function ls(kindArg: string | undefined, opts: LsOpts): Promise<void> {
  if (opts.count !== undefined && opts.watch === undefined) throw new UsageError('ls: --count goes with --watch');
  // `ls --watch shm`: commander took the kind for the optional interval.
  if (typeof opts.watch === 'string' && kindArg === undefined && isAnyKindWord(opts.watch)) {
    kindArg = opts.watch;
    opts.watch = true;
  }
  const report = await reportFor(kindArg, opts);
  if (opts.watch === undefined) {
    if (settings.json) writeStdout(report.serialize(report.json(), 2) + '\n');
    else writeStdout(report.text());
    return;
  }
  const intervalMs = typeof opts.watch === 'string' ? parseAge(opts.watch, '--watch interval') : 1000;
  if (intervalMs < 100) throw new UsageError(`ls: --watch interval '${opts.watch}' is too short: at least 100ms`);
  const repeat = { intervalMs, count: opts.count };
  if ((require('node:tty') as typeof import('node:tty')).isatty(1) && !settings.json) {
    const every = intervalMs % 1000 === 0 ? `${intervalMs / 1000}s` : `${intervalMs}ms`;
    const args = process.argv.slice(2).join(' ');
    const { liveScreen } = await import('../output/live.js');
    await liveScreen(
      repeat,
      () => `every ${every}: ipcctl ${args}    ${new Date().toLocaleTimeString()}    q to quit`,
      () => report.text(),
    );
  } else {
    // One snapshot per line, stamped with the time it was taken.
    const { jsonLinesEvery } = await import('../output/live.js');
    await jsonLinesEvery(
      repeat,
      () => ({ time: Math.floor(Date.now() / 1000), ...(report.json() as object) }),
      (v) => report.serialize(v) + '\n',
    );
  }
}

export function register(program: Command): void {
  const cmd = program.command('ls');
  addFilterOptions(
    cmd
      .description('list IPC objects: System V (from /proc/sysvipc) and POSIX (from /dev/mqueue and /dev/shm), limits and usage')
      .argument('[kind]', 'msgq, shm, sem, pmq, pshm or psem; sysv or posix for a family (default: all)'),
  )
    .option('--time', 'show times: last send/receive, attach/detach, semop, change')
    .option('--pid', 'show pids: creator and last, the creating user, and the creating command while it runs')
    .option('-c, --creators', 'show creator and owner ids (CUID CGID UID GID), like ipcs -c')
    .addOption(cmd.createOption('-o, --output <columns>', 'choose and order columns (comma-separated); +COL,... adds to the view'))
    .option('--raw', 'cells separated by one space, nothing aligned (for scripts)')
    .option('-n, --noheadings', 'no heading line')
    .option('-b, --bytes', 'sizes in bytes, not K/M/G')
    .option('--limits', 'each system-wide limit, what is used and the percentage')
    .option('--summary', 'totals per kind, like ipcs -u')
    .addOption(cmd.createOption('--watch [interval]', 'redraw every INTERVAL (default 1s); JSON Lines when not on a terminal'))
    .addOption(cmd.createOption('--count <n>', 'with --watch: stop after N snapshots').argParser(asCount))
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl ls\n  ipcctl ls shm --orphans\n  ipcctl ls --owner alice --time\n  ipcctl ls pmq -o NAME,MSGS --raw -n\n  ipcctl ls --limits\n  ipcctl ls msgq --watch 500ms',
    )
    .action((kind: string | undefined, opts: LsOpts & { noheadings?: boolean }) => ls(kind, { ...opts, headings: opts.noheadings ? false : true }));
}
