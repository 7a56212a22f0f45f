import { describe, expect, it } from "vitest";
import type { TaskDict } from "../../../src/agents/protocol.js";
import {
  findCycle,
  longestChain,
  MAX_DEPENDS_ON,
  MAX_GRAPH_DEPTH,
  validateGraph,
} from "../../../src/agents/workflow/graph-validation.js";
import { SpawnList } from "../../../src/agents/workflow/spawn-list.js";
import { Task } from "../../../src/index.js";

/** What a graph may be (validateGraph, findCycle) and what ctx.spawn collects (SpawnList). */

const node = (task_id: string, depends_on?: string[]) =>
  ({ task_id, task_type: "echo", payload: {}, ...(depends_on ? { depends_on } : {}) }) as TaskDict;
const none = async (ids: string[]) => ids.map(() => false);

describe("validateGraph", () => {
  it("takes a batch without dependencies without asking anything", async () => {
    await expect(
      validateGraph([node("a"), node("b")], () => Promise.reject(new Error("asked"))),
    ).resolves.toBeUndefined();
  });

  it("takes dependencies in the batch or known, and refuses an unknown one naming both ids", async () => {
    await expect(validateGraph([node("a"), node("b", ["a"])], none)).resolves.toBeUndefined();
    await expect(validateGraph([node("b", ["old"])], async () => [true])).resolves.toBeUndefined();
    await expect(validateGraph([node("b", ["ghost"])], none)).rejects.toMatchObject({
      code: "ERR_INVALID_TASK",
      message: 'task "b" depends on "ghost", which is neither a known task nor in this batch',
      details: { status: 422 },
    });
  });

  it("refuses a self-dependency, a repeated id, an over-long list and a cycle, naming it", async () => {
    await expect(validateGraph([node("a", ["a"])], none)).rejects.toThrow('task "a" depends on itself');
    await expect(validateGraph([node("x"), node("a", ["x", "x"])], none)).rejects.toThrow(/lists "x" twice/);
    const wide = Array.from({ length: MAX_DEPENDS_ON + 1 }, (_, i) => `d${i}`);
    await expect(validateGraph([node("a", wide)], none)).rejects.toThrow(/at most 1000 ids/);
    await expect(validateGraph([node("a", ["c"]), node("b", ["a"]), node("c", ["b"])], none)).rejects.toThrow(
      'the dependencies form a cycle: "a" -> "c" -> "b" -> "a"',
    );
  });

  it("finds no cycle in a chain of 10,000 (no recursion to overflow)", () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => node(`c${i}`, i > 0 ? [`c${i - 1}`] : undefined));
    expect(findCycle(chain)).toBeNull();
    chain[0] = node("c0", ["c9999"]);
    expect(findCycle(chain)).toHaveLength(10_001);
  });

  it("counts the longest chain of dependencies inside the batch (outside ids do not count)", () => {
    expect(longestChain([node("a"), node("b")])).toBe(1);
    // a diamond with a tail: a -> (b, c) -> d -> e, and c also waits on an outside task
    const diamond = [
      node("e", ["d"]),
      node("d", ["b", "c"]),
      node("b", ["a"]),
      node("c", ["a", "old"]),
      node("a"),
    ];
    expect(longestChain(diamond)).toBe(4);
    // the longest path, not the first found: x -> y -> z and x -> z
    expect(longestChain([node("z", ["x", "y"]), node("y", ["x"]), node("x")])).toBe(3);
  });

  it(`takes a chain of ${MAX_GRAPH_DEPTH} levels and refuses one of ${MAX_GRAPH_DEPTH + 1}, naming the limit`, async () => {
    const chain = (n: number) =>
      Array.from({ length: n }, (_, i) => node(`c${i}`, i > 0 ? [`c${i - 1}`] : undefined));
    await expect(validateGraph(chain(MAX_GRAPH_DEPTH), none)).resolves.toBeUndefined();
    await expect(validateGraph(chain(MAX_GRAPH_DEPTH + 1), none)).rejects.toMatchObject({
      code: "ERR_INVALID_TASK",
      message: `a graph request chains at most ${MAX_GRAPH_DEPTH} levels of dependencies (got ${MAX_GRAPH_DEPTH + 1}); submit a longer chain in parts`,
      details: { status: 422 },
    });
    // as wide as allowed but shallow is fine: 5,000 tasks on two levels
    const wide = [node("root"), ...Array.from({ length: 4_999 }, (_, i) => node(`w${i}`, ["root"]))];
    await expect(validateGraph(wide, none)).resolves.toBeUndefined();
  });
});

describe("SpawnList (ctx.spawn)", () => {
  it("names children <parent>.<n> over the whole attempt, with parent_id, keys absent when unused", () => {
    const list = new SpawnList("p");
    expect(list.add([{ task_type: "a" }, { task_type: "b", payload: { x: 1 } }])).toEqual(["p.1", "p.2"]);
    expect(list.add([{ task_type: "join", depends_on: ["p.1", "p.2"] }])).toEqual(["p.3"]);
    const [first, , join] = list.toJSON()!;
    expect(first).toMatchObject({ task_id: "p.1", task_type: "a", status: "pending", parent_id: "p" });
    expect(first).not.toHaveProperty("depends_on");
    expect(join).toMatchObject({ depends_on: ["p.1", "p.2"] });
  });

  it("takes a Task and a chosen id", () => {
    const list = new SpawnList("p");
    expect(list.add([new Task({ taskId: "mine", taskType: "echo", dependsOn: ["other"] })])).toEqual([
      "mine",
    ]);
    expect(list.toJSON()![0]).toMatchObject({ task_id: "mine", depends_on: ["other"], parent_id: "p" });
  });

  it("refuses, adding nothing: a cycle, a dependency on the parent, a repeated id, a dot id, a deep payload", () => {
    const list = new SpawnList("p");
    expect(() =>
      list.add([
        { task_type: "a", task_id: "x", depends_on: ["y"] },
        { task_type: "b", task_id: "y", depends_on: ["x"] },
      ]),
    ).toThrow(/cycle/);
    expect(() => list.add([{ task_type: "a", depends_on: ["p"] }])).toThrow(/cannot depend on its parent/);
    expect(() =>
      list.add([
        { task_type: "a", task_id: "z" },
        { task_type: "b", task_id: "z" },
      ]),
    ).toThrow(/used twice/);
    expect(() => list.add([{ task_type: "a", task_id: ".." }])).toThrow();
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) deep = { deep };
    expect(() => list.add([{ task_type: "a", payload: deep as never }])).toThrow(/deep/);
    expect(list.size).toBe(0);
    expect(list.toJSON()).toBeUndefined();
  });

  it(`refuses spawns that chain more than ${MAX_GRAPH_DEPTH} levels over the attempt, adding nothing`, () => {
    const list = new SpawnList("p");
    const link = (i: number) => ({
      task_type: "a",
      task_id: `s${i}`,
      ...(i > 0 ? { depends_on: [`s${i - 1}`] } : {}),
    });
    list.add(Array.from({ length: MAX_GRAPH_DEPTH }, (_, i) => link(i)));
    expect(() => list.add([link(MAX_GRAPH_DEPTH)])).toThrow(/at most 1000 levels/);
    expect(list.size).toBe(MAX_GRAPH_DEPTH);
  });
});
