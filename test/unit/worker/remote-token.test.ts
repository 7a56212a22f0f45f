import { describe, expect, it } from "vitest";
import { RemoteAgent } from "../../../src/agents/worker/remote/index.js";

/**
 * A bearer token for a remote A2A agent that no HTTP header can carry (a line end read with it
 * from a file, a space) is refused when the bridge is made, naming the character and never the
 * token: sent, every call failed in fetch and the card was read again for ever.
 */
describe("the bearer token of a remote A2A agent", () => {
  it.each([
    ["s3cret\n", "a line end or other whitespace (U+000A)"],
    ["s3 cret", "a space"],
    ["s3cretü", "the character U+00FC"],
  ])("%j is refused with ERR_INVALID_ARGUMENT, naming %s but not the token", (token, what) => {
    let caught: unknown;
    try {
      new RemoteAgent({ url: "http://127.0.0.1:1", token });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    const message = (caught as Error).message;
    expect(message).toContain(`the bearer token for the A2A agent at http://127.0.0.1:1`);
    expect(message).toContain(`holds ${what}, which an HTTP header cannot carry`);
    expect(message).not.toContain("s3");
  });

  it("a token of visible ASCII characters is taken, and so is none", () => {
    expect(() =>
      new RemoteAgent({ url: "http://127.0.0.1:1", token: "abc-DEF_123.~+/=" }).close(),
    ).not.toThrow();
    expect(() => new RemoteAgent({ url: "http://127.0.0.1:1", token: "" }).close()).not.toThrow();
  });
});
