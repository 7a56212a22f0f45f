import { describe, expect, it } from "vitest";
import { isPlainJson, isPlainObject, jsonCopy, jsonDepth } from "../../../src/core/json.js";
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

describe("jsonCopy (the in-process router's copy of each message)", () => {
  const viaText = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  it("answers what JSON.parse(JSON.stringify(value)) answers, for plain JSON and for what JSON rewrites", () => {
    const message = {
      sender: "a",
      recipient: "b",
      metadata: { request_id: "r1", parent_request_id: null },
      payload: { tasks: [{ task_id: "t1", payload: { i: 1, nested: [1, "x", true, null, { e: [] }] } }] },
      signature: "",
    };
    expect(jsonCopy(message)).toStrictEqual(viaText(message));
    const rewritten = {
      skipped: undefined,
      fn: () => 1,
      sym: Symbol("s"),
      list: [undefined, () => 1, Symbol("s"), Number.NaN, Number.NEGATIVE_INFINITY, -0],
      minusZero: -0,
      date: new Date(0),
      map: new Map([["k", 1]]),
      point: new (class Point {
        x = 1;
        toString() {
          return "p";
        }
      })(),
      custom: { toJSON: () => ({ as: "json" }) },
      boxed: [new String("s"), new Number(2), new Boolean(false)],
      bare: Object.assign(Object.create(null), { k: [1] }),
      // biome-ignore lint/suspicious/noSparseArray: a hole is one of the things JSON rewrites (as null)
      sparse: [1, , 3],
      own: JSON.parse('{"__proto__": {"polluted": true}, "x": 1}'),
    };
    const copy = jsonCopy(rewritten) as Record<string, unknown>;
    expect(copy).toStrictEqual(viaText(rewritten));
    // An own "__proto__" member stays a member; the copy's prototype is Object's.
    expect(Object.getPrototypeOf(copy.own)).toBe(Object.prototype);
    expect(Object.keys(copy.own as object)).toEqual(["__proto__", "x"]);
    expect(Object.is((copy.list as unknown[])[5], 0)).toBe(true);
  });

  it("copies own members only, in their order, even with Object.prototype polluted", () => {
    const plain = { b: 1, 2: "two", a: { c: 2 }, 1: "one" };
    let copy: Record<string, unknown>;
    const enumerable = { value: "!", enumerable: true, configurable: true, writable: true };
    Object.defineProperty(Object.prototype, "polluted", enumerable);
    try {
      copy = jsonCopy(plain) as Record<string, unknown>;
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(Object.keys(copy)).toEqual(["1", "2", "b", "a"]);
    expect(Object.hasOwn(copy, "polluted") || Object.hasOwn(copy.a as object, "polluted")).toBe(false);
    expect(copy).toStrictEqual(JSON.parse(JSON.stringify(plain)));
  });

  it("throws on a BigInt, as JSON.stringify does", () => {
    expect(() => jsonCopy({ n: [1n] })).toThrow(TypeError);
  });

  it("shares nothing with what it copied", () => {
    const original = { payload: { list: [{ n: 1 }] } };
    const copy = jsonCopy(original) as typeof original;
    copy.payload.list[0]!.n = 2;
    copy.payload.list.push({ n: 3 });
    expect(original).toEqual({ payload: { list: [{ n: 1 }] } });
  });
});
