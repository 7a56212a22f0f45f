import type { Message } from "@a2a-js/sdk";
import { describe, expect, it } from "vitest";
import { inputOf, inputProblem } from "../../src/server/a2a-gateway/input-message.js";

/**
 * The input a SendMessage gives to a task waiting for it (SPEC "Waiting for input": its data
 * part, or its text). A message with two data parts was taken as its first: the second was
 * dropped without a word, where a message that starts a task with two is refused (one data
 * part). It is refused here too (INVALID_PARAMS), naming how many it has.
 */

const message = (parts: unknown[]): Message =>
  ({ messageId: "m", contextId: "", taskId: "t", role: 1, parts }) as unknown as Message;
const data = (value: unknown) => ({ content: { $case: "data", value } });
const text = (value: string) => ({ content: { $case: "text", value } });

describe("the input of a SendMessage naming a waiting task", () => {
  it("is its one data part, or its text parts joined", () => {
    expect(inputOf(message([data({ a: 1 })]))).toEqual({ a: 1 });
    expect(inputProblem(message([data({ a: 1 })]))).toBeNull();
    expect(inputOf(message([text("yes"), text("really")]))).toBe("yes\nreally");
    expect(inputProblem(message([text("yes")]))).toBeNull();
  });

  it("refuses a message with more than one data part instead of dropping all but the first", () => {
    expect(inputProblem(message([data({ a: 1 }), data({ b: 2 })]))).toBe(
      "the input is one data part (any JSON) or text; the message has 2 data parts",
    );
  });

  it("refuses a message with neither", () => {
    expect(inputProblem(message([]))).toBe(
      "the input is a data part (any JSON) or text; the message has neither",
    );
  });
});
