/** One open object or array of the text being scanned; its parent link makes a path only when one is needed. */
type Frame = {
  keys: Set<string> | null; // null for an array
  index: number;
  lastKey: string | null;
  up: Frame | null;
};

/**
 * The path of the first member whose name an object already has (`payload.type`, `[2].task_id`)
 * in JSON `text` that parses, or null when every object's names are distinct. JSON.parse keeps
 * the last of `{"type":"a","type":"b"}` where other parsers keep the first or refuse it: a proxy,
 * a signer or a log in front of the server could read another request than the one that ran.
 * Names compare as parsed (`"a"` and `"\u0061"` are one name). On text that does not parse the
 * answer means nothing (it ends all the same).
 */
export function duplicateKeyPath(text: string): string | null {
  let top = null as Frame | null;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      top = { keys: c === 0x7b ? new Set() : null, index: 0, lastKey: null, up: top };
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      top = top?.up ?? null;
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      if (top === null) continue;
      if (top.keys === null) top.index++;
      else expectKey = true;
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (expectKey && top?.keys) {
        const raw = text.slice(i, end + 1);
        const key = raw.includes("\\") ? parsedName(raw) : raw.slice(1, -1);
        if (top.keys.has(key)) return pathOf(top, key);
        top.keys.add(key);
        top.lastKey = key;
        expectKey = false;
      }
      i = end;
    }
  }
  return null;
}

/** The index of the quote that closes the string opening at `start` (the last index if none does). */
function stringEnd(text: string, start: number): number {
  for (let at = text.indexOf('"', start + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return text.length - 1;
}

function parsedName(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw;
  }
}

function pathOf(frame: Frame, key: string): string {
  const parts: string[] = [key];
  for (let f: Frame = frame; f.up !== null; f = f.up) {
    const parent = f.up;
    parts.unshift(parent.keys === null ? `[${parent.index}]` : (parent.lastKey ?? ""));
  }
  return parts.reduce(
    (path, part) => (path === "" || part.startsWith("[") ? path + part : `${path}.${part}`),
    "",
  );
}

/** What a refusal of a duplicate name says, given its path and what held it (a request body, a CLI flag). */
export function duplicateKeyMessage(path: string, subject = "the body"): string {
  return `${subject} names ${path === "" ? '""' : path} more than once in one object; JSON with a duplicate key is refused (parsers differ on which one counts)`;
}
