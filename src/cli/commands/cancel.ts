import { ApiClient } from "../api-client.js";
import { type ParsedOptions, taskIdOption } from "../options.js";

/** POST /tasks/:id/cancel; the API's 404 (unknown) and 409 (already finished) become exit 1 with its reason. */
export async function cancel(options: ParsedOptions): Promise<number> {
  const api = new ApiClient(String(options.coordinator));
  const taskId = taskIdOption(options, "task");
  const task = await api.request<Record<string, unknown>>(
    "POST",
    `/tasks/${encodeURIComponent(taskId)}/cancel`,
  );
  process.stdout.write(`${JSON.stringify(task)}\n`);
  return 0;
}
