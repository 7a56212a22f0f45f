import type { TaskHandler } from "../agents/index.js";
import type { JsonObject } from "../core/json.js";
import type { Task } from "../core/state/index.js";

export type DemoTask = { task_id: string; task_type: string; payload: JsonObject; expected?: JsonObject };

const OPS = ["sum", "mean", "min", "max", "product"] as const;
const REGIONS = ["north", "south", "east", "west"];

/**
 * The `triad up` workload: mostly compute and data_processing tasks (whose right answers are
 * known, so the summary can check them), and a few `flaky` ones that fail on their first
 * attempt on purpose and succeed when retried.
 */
export function demoTasks(n: number, runId: string): DemoTask[] {
  const tasks: DemoTask[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${runId}-${String(i).padStart(6, "0")}`;
    const r = i % 20;
    if (r === 19) {
      tasks.push({ task_id: id, task_type: "flaky", payload: { n: i } });
    } else if (r % 3 === 2) {
      const data = Array.from({ length: 12 }, (_, k) => ({
        region: REGIONS[(i + k) % 4]!,
        amount: ((i * 7 + k * 13) % 50) + 1,
      }));
      tasks.push({
        task_id: id,
        task_type: "data_processing",
        payload: {
          data,
          operations: [
            { op: "filter", field: "amount", gte: 10 },
            {
              op: "group",
              by: "region",
              aggregate: { total: { op: "sum", field: "amount" }, orders: { op: "count" } },
            },
            { op: "sort", field: "total", order: "desc" },
          ],
        },
      });
    } else {
      const operation = OPS[i % OPS.length]!;
      const values = Array.from({ length: 5 }, (_, k) => ((i + k * 3) % 9) + 1);
      tasks.push({
        task_id: id,
        task_type: "compute",
        payload: { operation, values },
        expected: { result: compute(operation, values) },
      });
    }
  }
  return tasks;
}

function compute(op: (typeof OPS)[number], v: number[]): number {
  switch (op) {
    case "sum":
      return v.reduce((a, b) => a + b, 0);
    case "mean":
      return v.reduce((a, b) => a + b, 0) / v.length;
    case "min":
      return Math.min(...v);
    case "max":
      return Math.max(...v);
    case "product":
      return v.reduce((a, b) => a * b, 1);
  }
}

/** Fails its first attempt on purpose, so the demo shows a retry. */
export const flaky: TaskHandler<Task> = (task, ctx) => {
  if (ctx.attempt <= 1) throw new Error("failed on purpose (first attempt); the retry will succeed");
  return { n: task.payload.n ?? null, attempt: ctx.attempt };
};
