import type { FlagSpec, ParsedOptions } from "./options.js";

/** `--a2a-posts`: the transport tierA2A reads. */
export const a2aPostsFlag: FlagSpec = {
  name: "a2a-posts",
  type: "boolean",
  description:
    "send to other processes a POST per batch, not one message stream each (a peer that refuses the stream's upgrade gets POSTs anyway)",
  default: false,
};

/**
 * A tier's A2A listener and transport from its flags (--port, --host, --advertise-url,
 * --a2a-posts), beside its signing settings: no in-process router, its peers reached over HTTP.
 */
export function tierA2A<T extends object>(options: ParsedOptions, signing: T) {
  return {
    ...signing,
    agentPort: Number(options.port),
    host: String(options.host),
    router: null,
    streams: options["a2a-posts"] !== true,
    ...(options["advertise-url"] ? { advertiseUrl: String(options["advertise-url"]) } : {}),
  };
}
