import { describe, expect, it } from "vitest";
import { askingClusterPerSuite } from "../../helpers/asking-cluster.js";

/**
 * An answer too large for its task (ERR_INPUT_TOO_LARGE: with it, the task could no longer be
 * sent to a distributor) at the coordinator's HTTP entries: REST says 413; over A2A it is the
 * request's error (-32602) and the task is still INPUT_REQUIRED, not a task shown FAILED
 * ("Agent execution error") while it waits on.
 */

const LIMIT = 64 * 1024;

describe("an answer too large for its task, over REST and A2A", () => {
  const { post, answerOverA2A, asking, cluster } = askingClusterPerSuite(
    "input-size-a2a",
    (inputs) => ({ given: inputs.length }),
    // What a coordinator listening over HTTP sets from its body limit (in-process, none).
    (started) => started.coordinator.core.input.limitTaskSize(LIMIT),
  );

  it("is refused with its reason and the task keeps waiting; a smaller one is taken", async () => {
    const id = await asking("asks");
    const big = { text: "x".repeat(LIMIT) };

    const rest = await post(`/tasks/${id}/input`, { value: big });
    expect(rest.status).toBe(413);
    expect(rest.body.error).toMatchObject({ code: "ERR_INPUT_TOO_LARGE" });

    const rpc = await answerOverA2A(id, big);
    expect(rpc.body).toMatchObject({
      error: {
        code: -32602,
        message: expect.stringMatching(/^ERR_INPUT_TOO_LARGE: .*still waits for input/),
      },
    });
    expect(rpc.body.result).toBeUndefined();
    expect(await cluster().coordinator.core.getTask(id)).toMatchObject({ status: "input_required" });

    const small = await answerOverA2A(id, { text: "ok" });
    expect(small.body.error).toBeUndefined();
    expect(await cluster().coordinator.waitForTask(id, 8000)).toMatchObject({
      status: "completed",
      result: { given: 1 },
    });
  });
});
