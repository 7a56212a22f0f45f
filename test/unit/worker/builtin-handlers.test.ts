import { describe, expect, it } from "vitest";
import { compute } from "../../../src/agents/worker/handlers/compute.js";
import { dataProcessing } from "../../../src/agents/worker/handlers/data-processing.js";
import { echo, sleep } from "../../../src/agents/worker/handlers/echo.js";

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

  it("refuses the mean of nothing", () => {
    expect(() => compute({ operation: "mean", values: [] })).toThrow(/mean of no values/);
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
