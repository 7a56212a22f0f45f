import { describe, expect, it } from "vitest";
import { isTriadError } from "../../../src/core/errors.js";
import { canonicalJson, canonicalJsonWithout } from "../../../src/core/messaging/canonical-json.js";
import { jsonProblem, MAX_JSON_DEPTH } from "../../../src/core/messaging/plain-json.js";
import { NOT_JSON } from "../../helpers/not-json.js";

// Vectors from RFC 8785 (JSON Canonicalization Scheme).
describe("canonicalJson (RFC 8785)", () => {
  it("reproduces the RFC's section 3.2.2 example byte for byte", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts member names by UTF-16 code units (RFC section 3.2.3)", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    const expected = [
      ['"\\r"', '"Carriage Return"'],
      ['"1"', '"One"'],
      ['"\u0080"', '"Control"'],
      ['"\u00f6"', '"Latin Small Letter O With Diaeresis"'],
      ['"\u20ac"', '"Euro Sign"'],
      ['"\ud83d\ude00"', '"Emoji: Grinning Face"'],
      ['"\ufb33"', '"Hebrew Letter Dalet With Dagesh"'],
    ];
    expect(canonicalJson(input)).toBe(`{${expected.map(([k, v]) => `${k}:${v}`).join(",")}}`);
  });

  it.each([
    [0, "0"],
    [-0, "0"],
    [5e-324, "5e-324"],
    [-5e-324, "-5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [9007199254740992, "9007199254740992"],
    [295147905179352830000, "295147905179352830000"],
    [9.999999999999997e22, "9.999999999999997e+22"],
    [1e23, "1e+23"],
    [0.000001, "0.000001"],
    [9.999999999999997e-7, "9.999999999999997e-7"],
    [333333333.3333333, "333333333.3333333"],
    [1e21, "1e+21"],
    [999999999999999900000, "999999999999999900000"],
  ])("formats the number %d as %s (RFC appendix B)", (n, text) => {
    expect(canonicalJson(n)).toBe(text);
  });

  it("escapes strings as JSON.stringify does: short escapes, \\u00XX controls, lone surrogates", () => {
    expect(canonicalJson('\b\f\n\r\t\u0001\u001f"\\/')).toBe('"\\b\\f\\n\\r\\t\\u0001\\u001f\\"\\\\/"');
    expect(canonicalJson("\ud800")).toBe('"\\ud800"');
    expect(canonicalJson("é😀")).toBe('"é😀"');
  });

  it("nests without whitespace, sorting at every level, keeping array order", () => {
    expect(canonicalJson({ b: [3, { z: 1, a: null }], a: { d: true, c: "x" } })).toBe(
      '{"a":{"c":"x","d":true},"b":[3,{"a":null,"z":1}]}',
    );
  });

  it("writes a value already in order as JSON.stringify does, and one out of order the same once sorted", () => {
    const ordered = { a: [1, { b: "x", c: -0 }], d: { e: null, f: 1e21 }, g: "\ud800" };
    const shuffled = { g: "\ud800", d: { f: 1e21, e: null }, a: [1, { c: -0, b: "x" }] };
    expect(canonicalJson(ordered)).toBe(JSON.stringify(ordered));
    expect(canonicalJson(shuffled)).toBe(JSON.stringify(ordered));
    // Integer-like names come first in an object whatever their order of insertion; sorted, "10" < "9".
    expect(canonicalJson({ 9: "nine", 10: "ten" })).toBe('{"10":"ten","9":"nine"}');
  });

  it("never calls a toJSON, own or inherited, as JSON.stringify would", () => {
    const list = Object.assign([1, 2], { toJSON: () => "replaced" });
    expect(() => canonicalJson({ a: list })).not.toThrow();
    expect(canonicalJson({ a: list })).toBe('{"a":[1,2]}');
    const inherited = Object.defineProperty(Array.prototype, "toJSON", {
      value: () => "replaced",
      configurable: true,
    });
    try {
      expect(canonicalJson({ a: [1, 2] })).toBe('{"a":[1,2]}');
    } finally {
      delete (inherited as { toJSON?: unknown }).toJSON;
    }
  });

  it("canonicalJsonWithout leaves one member out, as if it was never there", () => {
    const msg = { type: "event", signature: "abc", payload: { signature: "kept" } };
    expect(canonicalJsonWithout(msg, "signature")).toBe(
      canonicalJson({ type: "event", payload: { signature: "kept" } }),
    );
  });

  it.each(NOT_JSON)("refuses %s with ERR_INVALID_JSON", (_name, value) => {
    let caught: unknown;
    try {
      canonicalJson({ a: value });
    } catch (err) {
      caught = err;
    }
    expect(isTriadError(caught, "ERR_INVALID_JSON")).toBe(true);
  });

  it("accepts nesting to MAX_JSON_DEPTH levels and refuses one more, as jsonProblem does", () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });
    expect(canonicalJson(nest(MAX_JSON_DEPTH))).toContain('{"a":1}');
    expect(jsonProblem(nest(MAX_JSON_DEPTH), "v")).toBeNull();
    expect(jsonProblem(nest(MAX_JSON_DEPTH + 1), "v")).not.toBeNull();
    expect(() => canonicalJson(nest(MAX_JSON_DEPTH + 1))).toThrow(/deeper than 64/);
    // A message's members count from zero: its payload may nest as deep as a payload may.
    expect(() =>
      canonicalJsonWithout({ payload: nest(MAX_JSON_DEPTH), signature: "" }, "signature"),
    ).not.toThrow();
    expect(() => canonicalJsonWithout({ payload: nest(MAX_JSON_DEPTH + 1) }, "signature")).toThrow();
  });
});
