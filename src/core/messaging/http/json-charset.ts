/**
 * The charset a JSON body's Content-Type declares, when it is not UTF-8 (RFC 8259 8.1: JSON
 * between systems is UTF-8); null when it declares none or UTF-8. Such a body was read as
 * UTF-8 all the same, so `charset=latin1` bytes became other characters, or U+FFFD.
 */
export function foreignCharset(contentType: string | undefined): string | null {
  if (contentType === undefined) return null;
  for (const param of contentType.split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (!/^utf-?8$/i.test(value)) return value;
  }
  return null;
}
