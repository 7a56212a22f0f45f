import { describe, expect, it } from "vitest";
import { isPlainJson, isPlainObject, jsonDepth } from "../../../src/core/json.js";
import { NOT_JSON } from "../../helpers/not-json.js";

const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);

describe("isPlainJson", () => {
  it("accepts what JSON.parse makes, null-prototype objects included", () => {
    const parsed = JSON.parse('{"a":[1,"x",null,true,{"b":-0.5}],"c":{}}');
    expect(isPlainJson(parsed)).toBe(true);
    const bare = Object.assign(Object.create(null), { k: [1] });
    expect(isPlainJson(bare)).toBe(true);
    expect(isPlainObject(bare)).toBe(true);
  });

  it.each(NOT_JSON)("refuses %s, at the top or nested", (_name, value) => {
    expect(isPlainJson(value)).toBe(false);
    expect(isPlainJson({ a: [value] })).toBe(false);
  });

  it("counts depth in containers: maxDepth + 1 levels pass, one more does not", () => {
    expect(isPlainJson(nest(65))).toBe(true);
    expect(isPlainJson(nest(66))).toBe(false);
    expect(isPlainJson(nest(66), 256)).toBe(true);
    expect(isPlainJson(nest(258), 256)).toBe(false);
  });
});

describe("jsonDepth", () => {
  const deepObject = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };

  it("counts containers: a scalar is 0, {} and [] are 1, each level one more", () => {
    expect(jsonDepth("x")).toBe(0);
    expect(jsonDepth(null)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth([1, 2])).toBe(1);
    expect(jsonDepth({ a: [1, { b: [] }], c: 2 })).toBe(4);
    expect(jsonDepth(nest(40))).toBe(40);
    expect(jsonDepth(deepObject(33))).toBe(33);
  });

  it("walks 100,000 levels from JSON.parse without recursion", () => {
    const text = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(jsonDepth(JSON.parse(text))).toBe(100_000);
  });

  it("stops past its limit, answering limit + 1: a cycle ends too", () => {
    expect(jsonDepth(deepObject(1000), 32)).toBe(33);
    expect(jsonDepth(deepObject(32), 32)).toBe(32);
    const cycle: Record<string, unknown> = { x: 1 };
    cycle.self = cycle;
    cycle.again = cycle;
    expect(jsonDepth(cycle, 32)).toBe(33);
  });
});
