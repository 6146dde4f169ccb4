// ipcctl ls [msgq|shm|sem]: what exists, from /proc alone (no ffi-rs on this
// path: `ipcctl ls` must start as fast as node itself). Facts come from
// ipc/procfs.ts; the views (tables, JSON, limits, summary, watch) are built
// here from the column table in ipc-columns.ts.
import { isatty } from 'node:tty';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { KINDS, type Kind, pageSize, readKernelLimits, readObjects } from '../ipc/procfs.js';
import type { Selection } from '../ipc/select.js';
import type { LimitRow, Summary } from '../ipc/usage.js';
import { writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { type Column, humanBytes, renderTable } from '../output/table.js';
import { asCount } from './common/args.js';
import { type View, tableColumns, toJsonDocument } from './common/ipc-columns.js';
import { addFilterOptions, type FilterOpts, hasFilter, isKindWord, parseAge, parseKind, selectionFrom } from './common/select-options.js';

interface LsOpts extends FilterOpts {
  time?: boolean;
  pid?: boolean;
  limits?: boolean;
  summary?: boolean;
  watch?: string | boolean;
  count?: number;
}

/** What one run of `ls` shows; `watch` repeats it. */
interface Report {
  /** The JSON value of one snapshot. */
  json(): unknown;
  /** The human text of one snapshot. */
  text(): string;
  /** Serialise `json()` (limits need exact big integers). */
  serialize(v: unknown, indent?: number): string;
}

// --- objects -----------------------------------------------------------------

async function objectsReport(sel: Selection, view: View): Promise<Report> {
  const kinds = sel.kinds;
  const columns = tableColumns(view, kinds);
  // The filter module only when a filter is given: the plain `ls` loads as
  // few modules as it can (module loading is most of its time).
  const filtered = Object.keys(sel).length > 1;
  const { select } = filtered ? await import('../ipc/select.js') : { select: null };
  const objects = () => (select ? select(readObjects(kinds), sel) : readObjects(kinds));
  return {
    json: () => toJsonDocument(objects(), kinds),
    text: () => renderTable(objects(), columns),
    serialize: (v, indent) => JSON.stringify(v, null, indent),
  };
}

// --- limits (like lsipc --global) ---------------------------------------------

const LIMIT_COLUMNS: Array<{ header: string; json: keyof LimitRow; human: (r: LimitRow) => string; align?: 'right' }> = [
  { header: 'RESOURCE', json: 'name', human: (r) => r.name },
  { header: 'DESCRIPTION', json: 'description', human: (r) => r.description },
  // Every limit printed the same way, exact, as /proc and --json have it
  // (a byte size as 8K beside a page count of 20 digits read as two scales).
  { header: 'LIMIT', json: 'limit', human: (r) => r.limit.toString(), align: 'right' },
  { header: 'USED', json: 'used', human: (r) => (r.used === null ? '-' : String(r.used)), align: 'right' },
  { header: 'USE%', json: 'percent', human: (r) => (r.percent === null ? '-' : `${r.percent.toFixed(2)}%`), align: 'right' },
];

async function limitsReport(kinds: readonly Kind[]): Promise<Report> {
  const { limitRows, summarize } = await import('../ipc/usage.js');
  const { exactJson } = await import('../output/exact-json.js');
  const rows = () => limitRows(readKernelLimits(), summarize(readObjects(kinds), pageSize()), kinds);
  const columns: Column<LimitRow>[] = LIMIT_COLUMNS.map((c) => ({ header: c.header, value: c.human, align: c.align }));
  return {
    json: () => ({ limits: rows().map((r) => Object.fromEntries(LIMIT_COLUMNS.map((c) => [c.json === 'name' ? 'resource' : c.json, r[c.json]]))) }),
    text: () => renderTable(rows(), columns),
    serialize: (v, indent) => exactJson(v, indent),
  };
}

// --- summary (like ipcs -u) ---------------------------------------------------

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

function summaryText(s: Summary, kinds: readonly Kind[]): string {
  const page = pageSize();
  const lines: string[] = [];
  if (kinds.includes('msgq')) {
    lines.push(`msgq  ${plural(s.msgq.queues, 'queue')}, ${plural(s.msgq.messages, 'message')}, ${humanBytes(s.msgq.bytes)} in messages`);
  }
  if (kinds.includes('shm')) {
    lines.push(
      `shm   ${plural(s.shm.segments, 'segment')}, ${plural(s.shm.pages, 'page')} allocated (${humanBytes(s.shm.pages * page)}), ` +
        `${s.shm.resident} resident, ${s.shm.swapped} swapped`,
    );
  }
  if (kinds.includes('sem')) lines.push(`sem   ${plural(s.sem.sets, 'set')}, ${plural(s.sem.semaphores, 'semaphore')}`);
  return lines.join('\n') + '\n';
}

async function summaryReport(kinds: readonly Kind[]): Promise<Report> {
  const { summarize } = await import('../ipc/usage.js');
  const summary = () => summarize(readObjects(kinds), pageSize());
  return {
    json: () => {
      const s = summary();
      return Object.fromEntries(kinds.map((k) => [k, s[k]]));
    },
    text: () => summaryText(summary(), kinds),
    serialize: (v, indent) => JSON.stringify(v, null, indent),
  };
}

// --- the command --------------------------------------------------------------

async function reportFor(kindArg: string | undefined, opts: LsOpts): Promise<Report> {
  const kinds: readonly Kind[] = kindArg === undefined ? KINDS : [parseKind(kindArg, 'ls')];
  const modes = [opts.limits && '--limits', opts.summary && '--summary', opts.time && '--time', opts.pid && '--pid'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`ls: give only one of ${modes.join(', ')}`);
  if ((opts.limits || opts.summary) && hasFilter(opts)) {
    throw new UsageError(`ls: ${opts.limits ? '--limits' : '--summary'} counts every object; the filters (--key, --owner, ...) do not apply`);
  }
  if (opts.limits) return limitsReport(kinds);
  if (opts.summary) return summaryReport(kinds);
  return objectsReport(selectionFrom(opts, kinds), opts.time ? 'time' : opts.pid ? 'pid' : 'default');
}

async function ls(kindArg: string | undefined, opts: LsOpts): Promise<void> {
  if (opts.count !== undefined && opts.watch === undefined) throw new UsageError('ls: --count goes with --watch');
  // `ls --watch shm`: commander took the kind for the optional interval.
  if (typeof opts.watch === 'string' && kindArg === undefined && isKindWord(opts.watch)) {
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
  if (isatty(1) && !settings.json) {
    const every = intervalMs % 1000 === 0 ? `${intervalMs / 1000}s` : `${intervalMs}ms`;
    const args = process.argv.slice(2).join(' ');
    const { liveScreen } = await import('../output/live.js');
    await liveScreen(repeat, () => `every ${every}: ipcctl ${args}    ${new Date().toLocaleTimeString()}    q to quit`, () => report.text());
  } else {
    // One snapshot per line, stamped with the time it was taken.
    const { jsonLinesEvery } = await import('../output/live.js');
    await jsonLinesEvery(repeat, () => ({ time: Math.floor(Date.now() / 1000), ...(report.json() as object) }), (v) => report.serialize(v) + '\n');
  }
}

export function register(program: Command): void {
  const cmd = program.command('ls');
  addFilterOptions(
    cmd
      .description('list System V objects (from /proc/sysvipc), limits and usage')
      .argument('[kind]', 'msgq, shm or sem (default: all three)'),
  )
    .option('--time', 'show times: last send/receive, attach/detach, semop, change')
    .option('--pid', 'show pids: creator and last, and the creating user')
    .option('--limits', 'each system-wide limit, what is used and the percentage')
    .option('--summary', 'totals per kind, like ipcs -u')
    .addOption(cmd.createOption('--watch [interval]', 'redraw every INTERVAL (default 1s); JSON Lines when not on a terminal'))
    .addOption(cmd.createOption('-n, --count <n>', 'with --watch: stop after N snapshots').argParser(asCount))
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl ls\n  ipcctl ls shm --orphans\n  ipcctl ls --owner alice --time\n  ipcctl ls --limits\n  ipcctl ls msgq --watch 500ms',
    )
    .action((kind, opts) => ls(kind, opts));
}
