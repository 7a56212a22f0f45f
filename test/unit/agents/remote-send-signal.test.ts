import { describe, expect, it } from "vitest";
import { sendSignal } from "../../../src/agents/worker/remote/send-signal.js";
import { expectNoListenersLeft } from "../../helpers/deadline-listeners.js";
import { until } from "../../helpers/wait.js";

/** The signal a remote task's first message goes under (see RemoteAgent.send). */
describe("sendSignal: a send the attempt's deadline catches on its way", () => {
  it("follows the deadline at once when the remote task is already known", () => {
    const deadline = new AbortController();
    const sending = sendSignal(deadline.signal);
    sending.known();
    expect(sending.signal!.aborted).toBe(false);
    deadline.abort(new Error("timed out"));
    expect(sending.signal!.aborted).toBe(true);
    expect(sending.signal!.reason).toEqual(new Error("timed out"));
  });

  it("waits for the answer that names the task, then follows the deadline", () => {
    const deadline = new AbortController();
    const sending = sendSignal(deadline.signal, 60_000);
    deadline.abort(new Error("timed out"));
    expect(sending.signal!.aborted).toBe(false); // the request stays up: its answer names the task
    sending.known();
    expect(sending.signal!.aborted).toBe(true);
  });

  it("gives up on an answer that does not come within the grace", async () => {
    const deadline = new AbortController();
    const sending = sendSignal(deadline.signal, 10);
    deadline.abort(new Error("timed out"));
    await until("the send is torn down", () => sending.signal!.aborted, 10_000);
    expect(sending.signal!.reason).toEqual(new Error("timed out"));
  });

  it("sends nothing once the deadline has passed, and nothing ties a send without one", () => {
    const passed = new AbortController();
    passed.abort(new Error("timed out"));
    expect(sendSignal(passed.signal).signal!.aborted).toBe(true);
    expect(sendSignal(undefined).signal).toBeUndefined();
  });
});

describe("sendSignal: sends that end leave nothing on the deadline", () => {
  it("takes its listener off the attempt's deadline once done, however many sends it sees", async () => {
    await expectNoListenersLeft((deadline) => {
      for (let i = 0; i < 50; i++) {
        const sending = sendSignal(deadline);
        sending.known();
        sending.done();
      }
    });
  });

  it("a send done before the deadline is not torn down by it, nor kept by a grace timer", () => {
    const deadline = new AbortController();
    const sending = sendSignal(deadline.signal, 60_000);
    sending.done();
    deadline.abort(new Error("timed out"));
    expect(sending.signal!.aborted).toBe(false);
  });
});
