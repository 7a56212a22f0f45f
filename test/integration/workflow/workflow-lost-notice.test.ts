import { describe, expect, it, vi } from "vitest";
import type { NoticeVerdict } from "../../../src/agents/ledger/task-ledger.js";
import type { JsonValue } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A "dependency ended" notice the store applied but whose answer never came back (its reply
 * later than the store's command timeout, on a loaded host): the notice made the dependent
 * ready, a repeat answers "unchanged", and the dependent stayed pending on no distributor for
 * ever (a fan-out of 10,000 tasks stuck under load). The coordinator reads such a dependent
 * again at its next tick and places it.
 */
describe.each(testEngines("workflow-lost-notice"))("a lost dependency notice on $name", (engine) => {
  const start = clusterPerTest(engine);

  it("still gets the dependent it made ready placed and run", async () => {
    const cluster = start({ handlers: { step: (): JsonValue => ({ ok: true }) } });
    await cluster.startOne();
    const c = cluster.coordinator;
    const real = c.ledger.notifyDependencyEnded.bind(c.ledger);
    const lost: NoticeVerdict[] = [];
    vi.spyOn(c.ledger, "notifyDependencyEnded").mockImplementation(async (dependent, dependency, status) => {
      const notice = await real(dependent, dependency, status);
      if (lost.length > 0) return notice;
      // Applied in the store; its answer is lost, as when the reply comes after the timeout.
      lost.push(notice.verdict);
      throw new Error("no reply from the store in time (the command may still have run)");
    });
    const [a, b] = [cluster.id("a"), cluster.id("b")];
    await c.submitTasks([
      { task_id: a, task_type: "step" },
      { task_id: b, task_type: "step", depends_on: [a] },
    ]);
    expect(await c.waitForTask(b, 20_000)).toMatchObject({ status: "completed" });
    expect(lost).toEqual(["ready"]);
  }, 45_000);
});
