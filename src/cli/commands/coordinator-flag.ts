import type { FlagSpec } from "../options.js";

/**
 * `--coordinator` of the client commands (submit, status, cancel, input, schedule): one URL, or
 * several coordinators of one store comma-separated, tried in list order (SPEC "Several
 * coordinators"; ../api-client.ts).
 */
export const coordinatorUrlsFlag: FlagSpec = {
  name: "coordinator",
  type: "string",
  description:
    "the coordinator's URL, e.g. http://127.0.0.1:7400; several of one store comma-separated, tried in order (the next when one does not answer)",
  required: true,
  url: "list",
};
