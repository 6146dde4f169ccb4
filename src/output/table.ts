// Plain column tables for the human views: headers, left-aligned text,
// right-aligned numbers, two spaces between columns.
export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number;
  align?: 'left' | 'right';
}

/**
 * The table as text. Every line reads as `cells.map(pad).join('  ').trimEnd()`.
 * Measured on `ls` with 2,000 objects, where this runs once on cold code:
 * the cells and the column widths come from one pass (no spread of every
 * cell into Math.max per column, no String() of what is already a string),
 * and padding stays with the builtins; a hand-written layout loop was slower
 * than padStart/padEnd/join/trimEnd until the JIT had warmed up.
 */
export function renderTable<Row>(rows: Row[], columns: Column<Row>[], style?: { header?: (s: string) => string }): string {
  const n = columns.length;
  const widths = columns.map((c) => c.header.length);
  const cells = rows.map((r) => {
    const texts = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const v = columns[i]!.value(r);
      const text = typeof v === 'string' ? v : String(v);
      texts[i] = text;
      if (text.length > widths[i]!) widths[i] = text.length;
    }
    return texts;
  });
  const right = columns.map((c) => c.align === 'right');
  const last = n - 1;
  const pad = (v: string, i: number) => (right[i] ? v.padStart(widths[i]!) : i === last ? v : v.padEnd(widths[i]!));
  const line = (texts: string[]) => texts.map(pad).join('  ').trimEnd();
  const head = line(columns.map((c) => c.header));
  return [(style?.header ?? ((s: string) => s))(head), ...cells.map(line)].join('\n') + '\n';
}

/** "key: value" lines, as ipcs -i prints one object. */
export function renderFields(pairs: Array<[string, string | number]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${v}`).join('\n') + '\n';
}

export function formatTime(seconds: number | null): string {
  if (seconds === null) return 'never';
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}
