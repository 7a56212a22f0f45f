import { describe, expect, it } from "vitest";
import type { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import { Placement } from "../../../src/agents/coordinator/placement.js";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { DEFAULT_TIMING } from "../../../src/agents/timing.js";

/** An unplaced task ends at its placement deadline, unless its type waits for a runner that is remembered. */

/** A Placement over `directory` (a placement deadline of 1 s), placing nothing. */
function placementOver(directory: DistributorDirectory): Placement {
  return new Placement({
    directory,
    timing: DEFAULT_TIMING,
    placementTimeoutMs: 1000,
    send: async () => {},
    holdsBack: () => false,
    lone: () => true,
    sent: () => {},
    unsendable: () => {},
  } as unknown as ConstructorParameters<typeof Placement>[0]);
}

const task = (id: string, type: string) => ({ task_id: id, task_type: type, payload: {} }) as TaskDict;

describe("Placement.expired", () => {
  it("keeps a task whose type waits for a dead but remembered runner (its deadline starts again), and gives up the others", () => {
    const waiting = new Set(["b"]);
    const directory = {
      awaitsRunner: (type: string) => waiting.has(type),
    } as unknown as DistributorDirectory;
    const placement = placementOver(directory);
    placement.hold(task("t-a", "a"));
    placement.hold(task("t-b", "b"));
    const later = performance.now() + 5000;
    expect(placement.expired(later)).toEqual(["t-a"]);
    expect(placement.has("t-b")).toBe(true);
    expect(placement.expired(later + 500)).toEqual([]); // its deadline started again at `later`
    // Its runner forgotten (or back, and then it is placed): it ends at its deadline as any task.
    waiting.clear();
    expect(placement.expired(later + 1000)).toEqual(["t-b"]);
    placement.close();
  });

  it("counts a held retry's deadline from the end of its backoff (it is not placed before)", () => {
    const directory = { awaitsRunner: () => false } as unknown as DistributorDirectory;
    const placement = placementOver(directory);
    placement.hold(task("t-retry", "a"), 0, { notBefore: Date.now() + 60_000 });
    placement.hold(task("t-now", "a"));
    const later = performance.now() + 5000; // past a 1-s deadline counted from now
    expect(placement.expired(later)).toEqual(["t-now"]);
    expect(placement.has("t-retry")).toBe(true);
    expect(placement.expired(later + 60_000)).toEqual(["t-retry"]);
    placement.close();
  });

  it("asks the directory once per task type in a call, however many of its tasks expire", () => {
    const asked: string[] = [];
    const directory = {
      awaitsRunner: (type: string) => {
        asked.push(type);
        return type === "b";
      },
    } as unknown as DistributorDirectory;
    const placement = placementOver(directory);
    for (let i = 0; i < 5; i++) {
      placement.hold(task(`t-a${i}`, "a"));
      placement.hold(task(`t-b${i}`, "b"));
    }
    const later = performance.now() + 5000;
    expect(placement.expired(later).sort()).toEqual(["t-a0", "t-a1", "t-a2", "t-a3", "t-a4"]);
    expect(asked.sort()).toEqual(["a", "b"]);
    for (let i = 0; i < 5; i++) expect(placement.has(`t-b${i}`)).toBe(true);
    placement.close();
  });
});
