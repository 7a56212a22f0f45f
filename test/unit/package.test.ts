import { describe, expect, it } from "vitest";

describe("the triad package", () => {
  it("is importable by its own name from inside the repository once built", async () => {
    const triad = await import("triad");
    expect(typeof triad.RedisClient).toBe("function");
    expect(typeof triad.TriadError).toBe("function");
    const client = new triad.RedisClient({ url: "memory://package-test" });
    expect(await client.connect()).toBe(true);
    await client.set("k", { ok: true });
    expect(await client.get("k")).toEqual({ ok: true });
  });
});
