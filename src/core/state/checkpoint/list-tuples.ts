import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointMetadata, CheckpointTuple } from "@langchain/langgraph/web";
import { deserialize, type ListOptions, matchesFilter, type Serde } from "./codec.js";
import type { SerializedValue } from "./transfer.js";

/** A checkpoint list() may yield: its id and metadata up front, the full tuple on demand. */
export type ListCandidate = {
  checkpointId: string;
  metadata: SerializedValue;
  load: () => Promise<CheckpointTuple | undefined>;
};

/** Newest id first, as LangGraph's list() contract (and MemorySaver) order them. */
export function byIdDescending(a: { checkpointId: string }, b: { checkpointId: string }): number {
  return a.checkpointId < b.checkpointId ? 1 : a.checkpointId > b.checkpointId ? -1 : 0;
}

/**
 * list()'s selection, shared by both savers: `candidates` come per namespace, newest first;
 * this applies config.checkpoint_id, options.before (ids below it), options.filter (metadata
 * keys equal) and options.limit (over everything yielded), loading only what it yields.
 */
export async function* listTuples(
  serde: Serde,
  config: RunnableConfig,
  options: ListOptions | undefined,
  candidates: AsyncIterable<ListCandidate> | Iterable<ListCandidate>,
): AsyncGenerator<CheckpointTuple> {
  const only: unknown = config.configurable?.checkpoint_id;
  const before: unknown = options?.before?.configurable?.checkpoint_id;
  let remaining = options?.limit ?? Number.POSITIVE_INFINITY;
  if (remaining <= 0) return;
  for await (const c of candidates) {
    if (typeof only === "string" && only !== "" && c.checkpointId !== only) continue;
    if (typeof before === "string" && before !== "" && c.checkpointId >= before) continue;
    if (options?.filter !== undefined) {
      const metadata = (await deserialize(serde, c.metadata)) as CheckpointMetadata;
      if (!matchesFilter(metadata, options.filter)) continue;
    }
    const tuple = await c.load();
    if (tuple === undefined) continue; // gone since it was listed (deleted or expired)
    yield tuple;
    if (--remaining <= 0) return;
  }
}
