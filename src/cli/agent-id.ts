/** Longest agent id a command takes (the library takes up to 256: ids of its own making). */
export const MAX_AGENT_ID_LENGTH = 128;

/**
 * What an agent id given to a command may hold. The id goes into Redis keys, URLs, log lines and
 * every A2A message: a space, a slash, a control character or a quote would split a key or a
 * path, or forge a log line. Letters, digits, ".", "_", "-" and ":" are safe in all of them.
 */
const AGENT_ID = /^[A-Za-z0-9._:-]+$/;

/**
 * Why `raw` is not a safe agent id, in words that end with what to do; undefined when it is one.
 * options.ts turns it into a usage error (ERR_BAD_AGENT_ID) for every flag that names an agent.
 */
export function agentIdProblem(raw: string): string | undefined {
  const why =
    raw.length === 0
      ? "it is empty"
      : raw.length > MAX_AGENT_ID_LENGTH
        ? `it is ${raw.length} characters long`
        : AGENT_ID.test(raw)
          ? undefined
          : `it holds ${describe([...raw].find((c) => !AGENT_ID.test(c))!)}`;
  if (why === undefined) return undefined;
  return `${why}; use letters, digits, ".", "_", "-" and ":" only, 1 to ${MAX_AGENT_ID_LENGTH} characters (it names the agent in Redis keys, URLs, log lines and messages)`;
}

/** A character as a user can see it: a space, a control character by its code point, else quoted. */
function describe(c: string): string {
  if (c === " ") return "a space";
  if (/\s/.test(c)) return `a whitespace character (U+${hex(c)})`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(c)) return `a control character (U+${hex(c)})`;
  return `the character ${JSON.stringify(c)}`;
}

const hex = (c: string) => c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
