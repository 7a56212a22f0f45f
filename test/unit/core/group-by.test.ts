import { describe, expect, it } from "vitest";
import { groupBy } from "../../../src/core/group-by.js";

describe("groupBy", () => {
  it("keeps the keys in the order first met and each group in the items' order", () => {
    const groups = groupBy(["b1", "a1", "b2", "c1", "a2"], (s) => s[0]);
    expect([...groups]).toEqual([
      ["b", ["b1", "b2"]],
      ["a", ["a1", "a2"]],
      ["c", ["c1"]],
    ]);
  });

  it("groups by object identity and takes any iterable (an array's indexes here)", () => {
    const x = { id: "x" };
    const y = { id: "y" };
    const targets = [x, y, x];
    const groups = groupBy(targets.keys(), (k) => targets[k]);
    expect(groups.get(x)).toEqual([0, 2]);
    expect(groups.get(y)).toEqual([1]);
    expect(groupBy([], (v: number) => v).size).toBe(0);
  });
});
