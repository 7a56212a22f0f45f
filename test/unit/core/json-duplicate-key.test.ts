import { describe, expect, it } from "vitest";
import { duplicateKeyPath } from "../../../src/core/json-duplicate-key.js";

describe("duplicateKeyPath: a member named twice in one object", () => {
  it("is found at any depth, named by its path", () => {
    expect(duplicateKeyPath('{"type":"a","type":"b"}')).toBe("type");
    expect(duplicateKeyPath('{"a":1,"b":{"c":1,"c":2}}')).toBe("b.c");
    expect(duplicateKeyPath('[{"a":1},{"a":1,"x":[1,{"q":1,"q":2}]}]')).toBe("[1].x[1].q");
    expect(duplicateKeyPath('{"a":[],"b":{},"a":1}')).toBe("a");
  });

  it("compares names as parsed: an escape is the character it stands for", () => {
    expect(duplicateKeyPath('{"a":1,"\\u0061":2}')).toBe("a");
    expect(duplicateKeyPath('{"a\\\\":1,"a":2}')).toBeNull();
  });

  it("is not fooled by names in sibling objects, in string values or behind escaped quotes", () => {
    expect(duplicateKeyPath('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toBeNull();
    expect(duplicateKeyPath('{"x":"{\\"a\\":1,\\"a\\":2}","y":"\\\\"}')).toBeNull();
    expect(duplicateKeyPath('"a"')).toBeNull();
    expect(duplicateKeyPath("[1,2,3]")).toBeNull();
  });
});
