// The rows of one /proc/sysvipc file as numbers, one row at a time, in one
// reused array: the readers in procfs.ts build each object straight from it,
// with no record of cells per row to copy from.
//
// The whole body is split into cells by one builtin call (split(/\s+/) over
// the text, not one per line), and each cell converted by Number, or
// parseInt(cell, 8) for the mode. `ls` runs this once, on cold code: a
// hand-written character loop, measured on 2,000 objects, cost more CPU in
// all, because V8 compiled the loop with its optimising compiler before the
// work was done; the builtins need no compiling. Every row the kernel prints
// has every column of the header; when a body does not divide into whole
// rows (a kernel that printed something else), it is read line by line,
// and a short row leaves NaN in the cells it lacks.

export class ProcRows {
  /**
   * The current row's cells by column index, and one more slot that always
   * holds 0: a column this kernel does not print points there (see index()).
   */
  readonly values: number[];
  /** Every cell of the body, row after row. */
  private readonly cells: string[];
  /** Cells per row in `cells`; 0 when it holds lines (read one at a time). */
  private readonly stride: number;
  private readonly names = new Map<string, number>();
  private readonly octal: number;
  private at = 0;

  /** `text`: the whole file; `octalColumn`: the column printed in octal. */
  constructor(text: string, octalColumn: string) {
    const eol = text.indexOf('\n');
    const header = (eol < 0 ? text : text.slice(0, eol)).trim().split(/\s+/);
    header.forEach((name, i) => this.names.set(name, i));
    const columns = header.length;
    this.values = new Array<number>(columns + 1).fill(0);
    this.octal = this.names.get(octalColumn) ?? -1;
    const body = eol < 0 ? '' : text.slice(eol + 1).trim();
    const cells = body === '' ? [] : body.split(/\s+/);
    if (cells.length % columns === 0) {
      this.cells = cells;
      this.stride = columns;
    } else {
      this.cells = body.split('\n');
      this.stride = 0;
    }
  }

  /** Where `name` is in `values`; the always-0 slot when the kernel lacks it. */
  index(name: string): number {
    return this.names.get(name) ?? this.values.length - 1;
  }

  /** Read the next row into `values`; false at the end. */
  next(): boolean {
    const { values, octal, stride } = this;
    const columns = values.length - 1;
    if (stride > 0) {
      const cells = this.cells;
      const at = this.at;
      if (at >= cells.length) return false;
      for (let i = 0; i < columns; i++) values[i] = i === octal ? parseInt(cells[at + i]!, 8) : Number(cells[at + i]);
      this.at = at + stride;
      return true;
    }
    while (this.at < this.cells.length) {
      const line = this.cells[this.at++]!.trim();
      if (line === '') continue;
      const cells = line.split(/\s+/);
      for (let i = 0; i < columns; i++) {
        values[i] = i >= cells.length ? NaN : i === octal ? parseInt(cells[i]!, 8) : Number(cells[i]);
      }
      return true;
    }
    return false;
  }
}
