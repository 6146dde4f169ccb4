// Plain column tables for the human views: headers, left-aligned text,
// right-aligned numbers, two spaces between columns.
export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number;
  align?: 'left' | 'right';
}

export function renderTable<Row>(rows: Row[], columns: Column<Row>[], style?: { header?: (s: string) => string }): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const right = (columns[i]!.align ?? 'left') === 'right';
        return right ? v.padStart(widths[i]!) : i === values.length - 1 ? v : v.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
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
