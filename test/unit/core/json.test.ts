import { describe, expect, it } from "vitest";
import { isPlainJson, isPlainObject } from "../../../src/core/json.js";
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
