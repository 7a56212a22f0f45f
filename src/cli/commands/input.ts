import { ApiClient } from "../api-client.js";
import { refuseDuplicateKeys } from "../json-text.js";
import { type ParsedOptions, taskIdOption, UsageError } from "../options.js";

/** POST /tasks/:id/input; the API's 404 (unknown) and 409 (not waiting for input) become exit 1 with its reason. */
export async function input(options: ParsedOptions): Promise<number> {
  let value: unknown;
  try {
    value = JSON.parse(String(options.value));
  } catch (err) {
    throw new UsageError(
      `--value is not JSON: ${(err as Error).message} (a string is written '"yes"')`,
      "ERR_MALFORMED_JSON",
    );
  }
  refuseDuplicateKeys(String(options.value), "--value");
  const api = new ApiClient(String(options.coordinator));
  const taskId = taskIdOption(options, "task");
  // Not repeated on a 503: a second try could find the first one's answer taken and say 409.
  const task = await api.request<Record<string, unknown>>(
    "POST",
    `/tasks/${encodeURIComponent(taskId)}/input`,
    { value, ...(typeof options.question === "number" ? { question: options.question } : {}) },
    30_000,
    0,
  );
  process.stdout.write(`${JSON.stringify(task)}\n`);
  return 0;
}
