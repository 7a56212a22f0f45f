import { describe, expect, it } from "vitest";
import { freePort, freePortWith } from "../../helpers/free-port.js";

describe("freePort (test helper)", () => {
  it("never hands out the same port twice in a process, though none of them is bound yet", async () => {
    // The chaos suite plans a whole cluster's ports before any process binds one; two agents
    // given the same port fail at launch (EADDRINUSE). 1,000 draws from ~20,000 ports without
    // the memory of what was handed out repeat one with near certainty.
    const ports: number[] = [];
    for (let i = 0; i < 1000; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("keeps a pair's companion (port + offset) from being handed out on its own", async () => {
    const pairs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const port = await freePortWith(10_000);
      if (port !== undefined) pairs.push(port, port + 10_000);
    }
    const singles: number[] = [];
    for (let i = 0; i < 500; i++) singles.push(await freePort());
    expect(new Set([...pairs, ...singles]).size).toBe(pairs.length + singles.length);
  });
});
