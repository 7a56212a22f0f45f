/**
 * Splits a byte stream into newline-terminated lines (UTF-8; a multi-byte character never holds
 * the byte "\n", so splitting bytes is safe). A line longer than the limit stops the reader:
 * `overflow` turns true and nothing more is returned, nor buffered past the limit.
 */
export class LineReader {
  private rest: Buffer | null = null;
  overflow = false;

  /** The lines `chunk` completes, without their "\n". */
  push(chunk: Buffer, maxLineBytes: number): string[] {
    if (this.overflow) return [];
    const data = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
      if (end - start > maxLineBytes) return this.overflowed(lines);
      lines.push(data.toString("utf8", start, end));
      start = end + 1;
    }
    if (data.length - start > maxLineBytes) return this.overflowed(lines);
    this.rest = start === data.length ? null : data.subarray(start);
    return lines;
  }

  private overflowed(lines: string[]): string[] {
    this.overflow = true;
    this.rest = null;
    return lines;
  }
}
