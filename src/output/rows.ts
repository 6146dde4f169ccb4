// lsipc's output forms for one table: aligned (the default), or --raw
// (cells separated by one space, nothing aligned, a space or control byte
// inside a cell written as \xHH so that `read -r a b c` splits it right),
// each with or without the heading line (-n, --noheadings).
import { type Column, renderTable } from './table.js';

export interface RowsStyle {
  raw?: boolean;
  headings?: boolean;
}

function rawCell(text: string): string {
  // Control characters are exactly what --raw escapes.
  // eslint-disable-next-line no-control-regex
  return text === '' ? '-' : text.replace(/[\s\\\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function renderRows<Row>(rows: Row[], columns: Column<Row>[], style: RowsStyle = {}): string {
  const headings = style.headings !== false;
  if (!style.raw) {
    const text = renderTable(rows, columns);
    return headings ? text : text.slice(text.indexOf('\n') + 1);
  }
  const lines: string[] = [];
  if (headings) lines.push(columns.map((c) => c.header).join(' '));
  for (const r of rows) lines.push(columns.map((c) => rawCell(String(c.value(r)))).join(' '));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
