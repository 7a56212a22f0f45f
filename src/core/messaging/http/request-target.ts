import type { IncomingMessage } from "node:http";

/** `scheme://authority` then the rest of an absolute-form target, as sent (not normalised). */
const ABSOLUTE_FORM = /^([a-z][a-z\d+.-]*):\/\/([^/?#]*)(.*)$/is;
/** A path segment that is "." or "..", written plainly or percent-encoded. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/**
 * Headers a request carries once at most: of two, node kept the first, where a proxy in front may
 * have read the other (two Content-Types: the type checked was not the one another reader saw;
 * two Authorizations: the token checked was not the one a proxy let through). Two Content-Lengths
 * or Transfer-Encodings never get here: node's parser refuses them (answerClientErrors).
 */
const SINGLE_HEADERS = [
  ["host", "Host"],
  ["content-type", "Content-Type"],
  ["authorization", "Authorization"],
] as const;

/**
 * Brings the request target to origin-form (`/path?query`) before any route reads it, or says
 * why it cannot be served (a 400): so too a request with no Host, or two Hosts, Content-Types or
 * Authorizations. An absolute-form target (`GET http://host/tasks`, which RFC
 * 9112 3.2.2 says a server must accept) becomes its path and query, its authority the Host. A
 * path with a "." or ".." segment (`/tasks/..`, `/tasks/%2e%2e`) or a backslash is refused:
 * URL parsing resolved it into another path, so `/tasks/..` served the dashboard's `/`.
 */
export function originForm(req: IncomingMessage): string | null {
  const target = req.url ?? "/";
  // RFC 9112 3.2: exactly one Host in HTTP/1.1 (node kept the first of two, and answered none with a bare 400).
  // (Read defensively: a handler may be given a request object made by hand.)
  const distinct = req.headersDistinct as IncomingMessage["headersDistinct"] | undefined;
  for (const [field, name] of SINGLE_HEADERS) {
    const count = distinct?.[field]?.length ?? 0;
    if (count > 1) return `the request carries ${count} ${name} headers; send one`;
  }
  // (A Host set from an absolute-form target counts: this may run again on the same request.)
  if (req.headers.host === undefined && req.httpVersion !== "1.0" && !/^https?:\/\//i.test(target)) {
    return "an HTTP/1.1 request must carry a Host header";
  }
  if (target === "*") return null; // OPTIONS *: no route takes it
  if (!target.startsWith("/")) {
    const absolute = ABSOLUTE_FORM.exec(target);
    if (absolute === null || !/^https?$/i.test(absolute[1]!) || !URL.canParse(target)) {
      return `the request target ${quoted(target)} is neither a path (/...) nor an http:// URL`;
    }
    const rest = absolute[3]!;
    // RFC 9112 3.2.2: the target's authority, not the Host header, names the host asked for.
    req.headers.host = new URL(target).host;
    req.url = rest.startsWith("/") ? rest : `/${rest}`;
  }
  const path = (req.url ?? "/").split("?")[0]!;
  if (path.includes("\\") || path.split("/").some((segment) => DOT_SEGMENT.test(segment))) {
    return `the request path ${quoted(path)} has a "." or ".." segment or a backslash: name the resource itself`;
  }
  return null;
}

function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
}
