import { vi } from "vitest";
import type { CoordinatorAgent } from "../../src/index.js";
import { until } from "./wait.js";

/**
 * Makes the other coordinator the one to end a cancel asked through `a` (DESIGN "A cancel
 * another coordinator ends"): `a`'s own sweep of the cancel frontier is held, and `a`'s cancel of
 * `id` waits after its mark until the store shows the task abandoned (by the other's tick).
 * Returns how many of `id`'s marks the hold has passed (the test checks it was reached).
 * The spies end with the test's vi.restoreAllMocks().
 */
export function holdCancelUntilEndedElsewhere(a: CoordinatorAgent, id: string, waitMs: number): () => number {
  const keeper = a.core.workflow as unknown as { sweepCascades: () => Promise<void> };
  vi.spyOn(keeper, "sweepCascades").mockResolvedValue(undefined);
  const mark = a.core.workflow.markCanceled.bind(a.core.workflow);
  let held = 0;
  vi.spyOn(a.core.workflow, "markCanceled").mockImplementation(async (taskId, reason) => {
    const marked = await mark(taskId, reason);
    if (taskId === id && held++ === 0)
      await until(
        "B's tick ended the task A marked",
        async () => (await a.ledger.get(id))?.task.status === "abandoned",
        waitMs,
      );
    return marked;
  });
  return () => held;
}
