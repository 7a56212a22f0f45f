/**
 * A query parameter that takes one value, given more than once (`?status=completed&status=bogus`),
 * is refused with its own code: URLSearchParams.get read the first and dropped the rest unchecked,
 * where a proxy or cache in front may have read the last.
 */
export function repeatedParam(
  url: URL,
  codes: Record<string, string>,
): { code: string; message: string } | null {
  for (const [name, code] of Object.entries(codes)) {
    const count = url.searchParams.getAll(name).length;
    if (count > 1) return { code, message: `${name} takes one value (given ${count} times); send it once` };
  }
  return null;
}
