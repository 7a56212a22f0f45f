/**
 * Splits a byte stream into newline-terminated lines (UTF-8; a multi-byte character never holds
 * the byte "\n", so splitting bytes is safe). A line longer than the limit stops the reader
 * (`push`): `overflow` turns true and nothing more is returned, nor buffered past the limit.
 * `pushSkipping` leaves such a line out instead and reads on past its end.
 */
export class LineReader {
  private rest: Buffer | null = null;
  /** Bytes of an over-limit line thrown away so far while its "\n" is awaited; -1 when none is. */
  private skipped = -1;
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

  /**
   * As `push`, but a line over `maxLineBytes` does not stop the reader: it stands as `null` in its
   * place among the lines returned (as soon as it is known to be over, before its end is read),
   * and its bytes are thrown away up to its "\n", never buffered. Only a line that grows past
   * `maxSkipBytes` (its "\n" may never come) stops the reader, as `push` does.
   */
  pushSkipping(chunk: Buffer, maxLineBytes: number, maxSkipBytes: number): (string | null)[] {
    if (this.overflow) return [];
    let data = chunk;
    let start = 0;
    if (this.skipped >= 0) {
      const end = chunk.indexOf(10);
      this.skipped += end === -1 ? chunk.length : end;
      if (this.skipped > maxSkipBytes) return this.overflowed([]);
      if (end === -1) return [];
      this.skipped = -1;
      start = end + 1;
    } else if (this.rest !== null) {
      data = Buffer.concat([this.rest, chunk]);
    }
    const lines: (string | null)[] = [];
    for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
      lines.push(end - start > maxLineBytes ? null : data.toString("utf8", start, end));
      start = end + 1;
    }
    this.rest = null;
    if (data.length - start > maxLineBytes) {
      lines.push(null);
      this.skipped = data.length - start;
      if (this.skipped > maxSkipBytes) return this.overflowed(lines);
    } else if (start < data.length) {
      this.rest = data.subarray(start);
    }
    return lines;
  }

  private overflowed<T>(lines: T[]): T[] {
    this.overflow = true;
    this.rest = null;
    return lines;
  }
}
