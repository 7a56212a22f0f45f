import { afterAll, describe, expect, it, vi } from "vitest";
import { askingClusterPerSuite } from "../../helpers/asking-cluster.js";

/**
 * Two answers over A2A to one question, both sent while the task still waited: the first is
 * taken, the second is refused as POST /tasks/:id/input refuses it (ERR_NOT_WAITING_FOR_INPUT,
 * "not waiting for input") — it was answered as a success and dropped, so its sender believed
 * its input was taken. The coordinator's provideInput is held until both answers reach it, so
 * the two always pass the gateway's "is it waiting?" check (however loaded the machine).
 */

describe("a second answer over A2A to a question already answered", () => {
  const { answerOverA2A, asking, cluster } = askingClusterPerSuite("input-second-answer-a2a", (inputs) => ({
    inputs,
  }));
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it("is refused naming ERR_NOT_WAITING_FOR_INPUT, and only the first is the task's input", async () => {
    const id = await asking("asks");
    const coordinator = cluster().coordinator;
    const provideInput = coordinator.provideInput.bind(coordinator);
    const arrived: Array<() => void> = [];
    let both!: () => void;
    const bothArrived = new Promise<void>((resolve) => {
      both = resolve;
    });
    vi.spyOn(coordinator, "provideInput").mockImplementation(async (...args) => {
      const turn = arrived.length;
      const go = new Promise<void>((resolve) => arrived.push(resolve));
      if (arrived.length === 2) both();
      await (turn === 0 ? bothArrived : go);
      try {
        return await provideInput(...args);
      } finally {
        // The second goes once the first has been given.
        arrived[1]?.();
      }
    });

    const answers = await Promise.all([answerOverA2A(id, { n: 1 }), answerOverA2A(id, { n: 2 })]);
    const taken = answers.filter((a) => a.body.error === undefined);
    const refused = answers.filter((a) => a.body.error !== undefined);
    expect(taken).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.body.result).toBeUndefined();
    expect(refused[0]!.body.error).toMatchObject({
      code: -32004,
      message: expect.stringMatching(
        new RegExp(`^ERR_NOT_WAITING_FOR_INPUT: task ${id} is \\w+, not waiting for input`),
      ),
      data: [
        expect.objectContaining({ metadata: expect.objectContaining({ code: "ERR_NOT_WAITING_FOR_INPUT" }) }),
      ],
    });
    vi.restoreAllMocks();

    const done = await coordinator.waitForTask(id, 30_000);
    expect(done).toMatchObject({ status: "completed" });
    expect((done!.result as { inputs: unknown[] }).inputs).toHaveLength(1);

    // Sent once the task has ended: refused the same way, before anything is given.
    const late = await answerOverA2A(id, { n: 3 });
    expect(late.body.error).toMatchObject({
      message: expect.stringMatching(
        /ERR_NOT_WAITING_FOR_INPUT: task .* is completed, not waiting for input/,
      ),
    });
  });
});
