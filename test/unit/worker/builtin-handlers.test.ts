import { describe, expect, it } from "vitest";
import { compute } from "../../../src/agents/worker/handlers/compute.js";
import { dataProcessing } from "../../../src/agents/worker/handlers/data-processing.js";
import { echo, sleep } from "../../../src/agents/worker/handlers/echo.js";
import type { JsonObject } from "../../../src/core/json.js";
import { isUnrecoverable } from "../../../src/core/state/index.js";

describe("compute", () => {
  it.each([
    ["sum", [1, 2, 3, 4], 10],
    ["product", [2, 3, 4], 24],
    ["mean", [1, 2, 3, 4], 2.5],
    ["min", [5, -2, 9], -2],
    ["max", [5, -2, 9], 9],
  ])("%s of %j is %d", (operation, values, expected) => {
    expect(compute({ operation, values })).toEqual({ result: expected });
  });

  it("an empty payload is the sum of nothing", () => {
    expect(compute({})).toEqual({ result: 0 });
  });

  it("refuses an unknown operation, naming the choices", () => {
    expect(() => compute({ operation: "median", values: [1] })).toThrow(
      /operation must be one of sum, product, mean, min, max/,
    );
  });

  it("refuses values that are not numbers", () => {
    expect(() => compute({ operation: "sum", values: [1, "2"] })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_PAYLOAD" }),
    );
  });

  it("refuses a result past the largest number (JSON has no Infinity), not retried", () => {
    for (const [operation, values] of [
      ["product", [1e308, 10]],
      ["sum", [1e308, 1e308]],
    ] as const) {
      let thrown: unknown;
      try {
        compute({ operation, values: [...values] });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({
        code: "ERR_INVALID_PAYLOAD",
        message: `compute: the ${operation} overflows: it is not a finite number`,
      });
      // Wrong input: another attempt cannot help.
      expect(isUnrecoverable(thrown)).toBe(true);
    }
  });

  it("refuses the mean of nothing", () => {
    expect(() => compute({ operation: "mean", values: [] })).toThrow(/mean of no values/);
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"])(
    "refuses %j: Object.prototype's members are not operations",
    (operation) => {
      expect(() => compute({ operation, values: [1, 2] })).toThrow(
        expect.objectContaining({
          code: "ERR_INVALID_PAYLOAD",
          message: expect.stringMatching(/operation must be one of/),
        }),
      );
    },
  );

  it("takes the min and max of 200,000 values (no spread into Math.min)", () => {
    const values = Array.from({ length: 200_000 }, (_, i) => ((i * 7919) % 200_003) - 100_000);
    values[123_456] = -500_000;
    values[7] = 900_000;
    expect(compute({ operation: "min", values })).toEqual({ result: -500_000 });
    expect(compute({ operation: "max", values })).toEqual({ result: 900_000 });
  });
});

describe("data_processing", () => {
  const people = [
    { name: "ada", team: "core", age: 36 },
    { name: "bob", team: "web", age: 25 },
    { name: "cy", team: "core", age: 41 },
    { name: "ada", team: "core", age: 36 },
  ];

  it("filters, dedupes, sorts and maps in order", () => {
    const out = dataProcessing({
      data: people,
      operations: [
        { op: "filter", field: "team", equals: "core" },
        { op: "dedupe", field: "name" },
        { op: "sort", field: "age", order: "desc" },
        { op: "map", field: "name" },
      ],
    });
    expect(out).toEqual({ data: ["cy", "ada"], count: 2 });
  });

  it("groups and aggregates", () => {
    const out = dataProcessing({
      data: people,
      operations: [
        { op: "group", by: "team", aggregate: { n: { op: "count" }, avg_age: { op: "mean", field: "age" } } },
        { op: "sort", field: "team" },
      ],
    });
    expect(out).toEqual({
      data: [
        { team: "core", n: 3, avg_age: (36 + 41 + 36) / 3 },
        { team: "web", n: 1, avg_age: 25 },
      ],
      count: 2,
    });
  });

  it("filters by numeric bounds and limits", () => {
    const out = dataProcessing({
      data: [5, 1, 9, 3, 7],
      operations: [{ op: "sort" }, { op: "limit", count: 3 }],
    });
    expect(out).toEqual({ data: [1, 3, 5], count: 3 });
    expect(
      dataProcessing({ data: people, operations: [{ op: "filter", field: "age", gte: 36, lt: 41 }] }),
    ).toMatchObject({
      count: 2,
    });
  });

  it("passes data through with no operations, and an empty payload is empty data", () => {
    expect(dataProcessing({ data: [1, 2] })).toEqual({ data: [1, 2], count: 2 });
    expect(dataProcessing({})).toEqual({ data: [], count: 0 });
  });

  it("names the bad part of a malformed payload", () => {
    expect(() => dataProcessing({ data: [1], operations: [{ op: "explode" }] })).toThrow(
      /data_processing: operations\.0/,
    );
    expect(() => dataProcessing({ data: "not a list" })).toThrow(/data_processing: data/);
  });
});

describe("data_processing with hostile names and sizes", () => {
  it("aggregates min and max over 200,000 items in one group", () => {
    const data = Array.from({ length: 200_000 }, (_, i) => ({ g: "all", v: i % 1000 }));
    data[99_999] = { g: "all", v: -7 };
    const aggregate = { lo: { op: "min", field: "v" }, hi: { op: "max", field: "v" } };
    const out = dataProcessing({ data, operations: [{ op: "group", by: "g", aggregate }] });
    expect(out).toEqual({ data: [{ g: "all", lo: -7, hi: 999 }], count: 1 });
  });

  it("reads only the items' own fields: constructor and __proto__ are data or nothing", () => {
    const data: JsonObject[] = [{ constructor: 1 }, {}, { toString: "x" }];
    expect(dataProcessing({ data, operations: [{ op: "map", field: "constructor" }] })).toEqual({
      data: [1, null, null],
      count: 3,
    });
    const mapped = dataProcessing({ data, operations: [{ op: "map", field: "toString" }] });
    expect(mapped).toEqual({ data: [null, null, "x"], count: 3 });
    const grouped = dataProcessing({
      data: [{ v: 1 }, { v: 2 }],
      operations: [{ op: "group", by: "__proto__", aggregate: { n: { op: "count" } } }],
    }) as { data: Array<Record<string, unknown>> };
    expect(Object.hasOwn(grouped.data[0]!, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(grouped.data[0])).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(grouped))).toEqual(
      JSON.parse('{"data":[{"__proto__":null,"n":2}],"count":1}'),
    );
  });
});

describe("echo and sleep", () => {
  it("echo returns the payload", () => {
    expect(echo({ a: [1, { b: null }] })).toEqual({ a: [1, { b: null }] });
  });

  it("sleep waits, and stops when aborted", async () => {
    const started = performance.now();
    await expect(sleep({ ms: 30 }, new AbortController().signal)).resolves.toEqual({ slept_ms: 30 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    const ac = new AbortController();
    const pending = sleep({ ms: 60_000 }, ac.signal);
    ac.abort(new Error("timed out"));
    await expect(pending).rejects.toThrow("timed out");
    expect(() => sleep({ ms: -1 }, ac.signal)).toThrow(/ms must be/);
  });
});
