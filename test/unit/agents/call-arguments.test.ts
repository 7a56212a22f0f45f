import { describe, expect, it } from "vitest";
import { checkedId } from "../../../src/agents/agent-options.js";
import {
  checkCancelReason,
  checkIdArgument,
  MAX_CANCEL_REASON_CHARS,
} from "../../../src/agents/call-arguments.js";

/**
 * An id is the same thing as a call's argument (`registerWorker(workerId)`, ERR_INVALID_ARGUMENT)
 * and as an agent's option (`agentId`, ERR_INVALID_CONFIG): a non-empty string. A cancel's reason
 * becomes the task's error: a non-empty string (not only white space), 1000 characters at most.
 */

const SAMPLES: unknown[] = ["w1", " ", "", 5, null, undefined, {}, ["w1"], true, 5n];

describe("an id, as a call's argument and as an agent's option", () => {
  it("the same values are taken and refused, each with its own code", () => {
    for (const value of SAMPLES) {
      const asArgument = (() => {
        try {
          return checkIdArgument("registerWorker", "workerId", value);
        } catch (err) {
          return err as { code: string };
        }
      })();
      const asOption = (() => {
        try {
          return checkedId("agentId", value);
        } catch (err) {
          return err as { code: string };
        }
      })();
      if (typeof value === "string" && value.length > 0) {
        expect(asArgument).toBe(value);
        expect(asOption).toBe(value);
      } else {
        expect(asArgument).toMatchObject({ code: "ERR_INVALID_ARGUMENT", details: { argument: "workerId" } });
        expect(asOption).toMatchObject({ code: "ERR_INVALID_CONFIG" });
      }
    }
  });
});

describe("a cancel's reason", () => {
  const refused = (message: string) => expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message });

  it("is a non-empty string of at most MAX_CANCEL_REASON_CHARS characters", () => {
    expect(() => checkCancelReason("x".repeat(MAX_CANCEL_REASON_CHARS))).not.toThrow();
    expect(() => checkCancelReason(" why ")).not.toThrow();
  });

  it("empty, white space or not a string: refused, saying what it got", () => {
    const leaveOut = '; leave it out for "canceled by client"';
    expect(() => checkCancelReason("")).toThrow(
      refused(
        `cancelTask's reason must be a non-empty string (the task's error; got an empty string)${leaveOut}`,
      ),
    );
    expect(() => checkCancelReason("   ")).toThrow(refused(expect.stringContaining("got an empty string")));
    expect(() => checkCancelReason({ why: 1 })).toThrow(refused(expect.stringContaining("got an object")));
    expect(() => checkCancelReason(null)).toThrow(refused(expect.stringContaining("got null")));
  });

  it("longer than MAX_CANCEL_REASON_CHARS: refused, saying its length and the limit", () => {
    const long = "x".repeat(MAX_CANCEL_REASON_CHARS + 1);
    expect(() => checkCancelReason(long)).toThrow(
      refused(`cancelTask's reason is ${long.length} characters; at most ${MAX_CANCEL_REASON_CHARS}`),
    );
  });
});
