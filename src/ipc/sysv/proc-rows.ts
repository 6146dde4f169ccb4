// The rows of one /proc/sysvipc file as numbers, one row at a time, in one
// reused array: the readers in procfs.ts build each object straight from it,
// with no record of cells per row to copy from.
//
// Each row is split and converted by the builtins (trim, split(/\s+/),
// Number, parseInt(cell, 8) for the mode). `ls` runs this once, on cold
// code: a hand-written character loop, measured on 2,000 objects, cost more
// CPU in all, because V8 compiled the loop with its optimising compiler
// before the work was done; the builtins need no compiling.

export class ProcRows {
  /**
   * The current row's cells by column index, and one more slot that always
   * holds 0: a column this kernel does not print points there (see index()).
   * A row shorter than the header leaves NaN in the cells it lacks.
   */
  readonly values: number[];
  private readonly lines: string[];
  private readonly names = new Map<string, number>();
  private readonly octal: number;
  private at = 1;

  /** `text`: the whole file; `octalColumn`: the column printed in octal. */
  constructor(text: string, octalColumn: string) {
    this.lines = text.split('\n');
    this.lines[0]!.trim()
      .split(/\s+/)
      .forEach((name, i) => this.names.set(name, i));
    this.values = new Array<number>(Math.max(...this.names.values()) + 2).fill(0);
    this.octal = this.names.get(octalColumn) ?? -1;
  }

  /** Where `name` is in `values`; the always-0 slot when the kernel lacks it. */
  index(name: string): number {
    return this.names.get(name) ?? this.values.length - 1;
  }

  /** Read the next non-blank row into `values`; false at the end. */
  next(): boolean {
    const { lines, values, octal } = this;
    const columns = values.length - 1;
    while (this.at < lines.length) {
      const line = lines[this.at++]!.trim();
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
