import { type ListTasksRequest, type ListTasksResponse, Task, TaskState } from "@a2a-js/sdk";
import { RequestMalformedError } from "@a2a-js/sdk/errors";
import type { ServerCallContext, TaskStore } from "@a2a-js/sdk/server";
import type { CoordinatorAgent } from "../../agents/index.js";
import type { TaskDict } from "../../agents/protocol.js";
import { isStoreUnavailable } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import { MAX_TASK_ID_LENGTH } from "../../core/state/task-id.js";
import { clusterFinished, endedAt } from "../cluster-tasks.js";
import { EnvelopeNotes, tenantDigest } from "./envelope-notes.js";
import { contextDigest, RejectedTasks } from "./rejected-tasks.js";
import { requestTenants } from "./request-tenants.js";
import { stateOf, toA2ATask } from "./task-view.js";

/** Open tasks looked at per ListTasks at most (the finished ones come from the coordinator's memory). */
const MAX_OPEN_LISTED = 1000;
const DEFAULT_PAGE_SIZE = 50;

/**
 * The SDK's TaskStore over Triad's own records. The state and the result always come from the
 * task's record (through the coordinator, so from Redis); what only A2A has — the context id,
 * the conversation, and the whole task when its input was refused before it became a Triad
 * task — is kept beside it in the same store, for as long as the record is.
 */
export class TriadTaskStore implements TaskStore {
  constructor(
    private readonly coordinator: CoordinatorAgent,
    /** Sent to the other coordinators when a list asks them for their windows (TRIAD_API_TOKEN). */
    private readonly apiToken?: string | undefined,
  ) {
    this.rejected = new RejectedTasks(coordinator);
    this.notes = new EnvelopeNotes(coordinator);
  }

  /** Each envelope's tenant and context, for ListTasks's filters (EnvelopeNotes). */
  private readonly notes: EnvelopeNotes;

  /** The tasks refused before they became Triad tasks, for ListTasks. */
  private readonly rejected: RejectedTasks;

  async save(task: Task, context?: ServerCallContext): Promise<void> {
    // Artifacts are derived from the record on every load; keeping a copy would only go stale.
    const envelope = Task.toJSON({ ...task, artifacts: [] }) as { [key: string]: JsonValue };
    // The tenant the task was started for stays with it (a save no request noted keeps it).
    const tenant = requestTenants.of(context) ?? (await this.stored(task.id).catch(() => undefined))?.tenant;
    if (tenant) envelope[TENANT_FIELD] = tenant;
    const ttlSeconds = Math.max(1, Math.ceil(this.coordinator.ledger.retentionMs / 1000));
    try {
      await Promise.all([
        this.coordinator.store.set(envelopeKey(task.id), envelope, ttlSeconds),
        this.notes.note(task.id, tenant ?? "", task.contextId),
      ]);
      // A refused task is never a Triad task: ListTasks finds it through this index alone.
      if (task.status?.state === TaskState.TASK_STATE_REJECTED) {
        await this.rejected.note(task.id, task.contextId, task.status.timestamp ?? new Date().toISOString());
      }
    } catch (err) {
      // The envelope only adds the A2A context to Triad's record, which is the truth: a store
      // that cannot take it now must not fail the request (the request's own answer says so).
      if (!isStoreUnavailable(err)) throw err;
    }
  }

  /** The task; undefined when unknown, or another tenant's than the request's (see RequestTenants). */
  async load(taskId: string, context?: ServerCallContext): Promise<Task | undefined> {
    // Triad task ids are at most this long; anything longer is no task of ours.
    if (taskId.length > MAX_TASK_ID_LENGTH) return undefined;
    const [record, stored] = await Promise.all([this.coordinator.core.getTask(taskId), this.stored(taskId)]);
    const tenant = requestTenants.of(context);
    if (tenant !== undefined && tenant !== (stored?.tenant ?? "")) return undefined;
    if (record !== null) return toA2ATask(record, stored?.task);
    return stored?.task;
  }

  /**
   * Triad's tasks, newest status first: the open ones (up to MAX_OPEN_LISTED), the finished
   * ones the coordinators remember, and the tasks refused before they became Triad tasks
   * (REJECTED: the newest MAX_REJECTED_LISTED of the ledger's retention, RejectedTasks).
   */
  async list(params: ListTasksRequest): Promise<ListTasksResponse> {
    const tenant = typeof params.tenant === "string" ? params.tenant : "";
    const pageSize = params.pageSize ?? DEFAULT_PAGE_SIZE;
    const status =
      params.status !== undefined && params.status !== TaskState.TASK_STATE_UNSPECIFIED
        ? params.status
        : undefined;
    const rejectedOnly = status === TaskState.TASK_STATE_REJECTED;
    const wantsRejected = status === undefined || rejectedOnly;
    const [triad, refused] = await Promise.all([
      rejectedOnly ? [] : this.candidates(),
      wantsRejected ? this.rejected.rows() : [],
    ]);
    const triadIds = new Set(triad.map((t) => t.task_id));
    let rows: Row[] = [
      ...triad.map((task): Row => ({ id: task.task_id, at: endedAt(task), state: stateOf(task), task })),
      ...refused
        .filter((r) => !triadIds.has(r.id))
        .map((r): Row => ({ id: r.id, at: r.at, state: TaskState.TASK_STATE_REJECTED, context: r.context })),
    ];
    if (status !== undefined) rows = rows.filter((r) => r.state === status);
    if (params.statusTimestampAfter) {
      const after = Date.parse(params.statusTimestampAfter);
      rows = rows.filter((r) => Date.parse(r.at) > after);
    }
    const envelopes = new Map<string, Task | undefined>();
    const digest = params.contextId ? contextDigest(params.contextId) : "";
    // A refused task's digest must match before its envelope is read (then its id must).
    if (params.contextId) rows = rows.filter((r) => r.task !== undefined || r.context === digest);
    // Each row's tenant from its envelope's note, read for every row in one call; a row without
    // a note (an envelope older than notes, or none: a REST task is no tenant's) from its envelope.
    const notes = await this.notes.read(rows.map((r) => r.id));
    const unnoted = rows.filter((r) => !notes.has(r.id));
    const loaded = await Promise.all(unnoted.map((r) => this.stored(r.id)));
    const tenantOf = new Map<string, string>();
    for (const [i, r] of unnoted.entries()) {
      envelopes.set(r.id, loaded[i]?.task);
      tenantOf.set(r.id, tenantDigest(loaded[i]?.tenant ?? ""));
    }
    for (const [id, note] of notes) tenantOf.set(id, note.tenant);
    const wanted = tenantDigest(tenant);
    rows = rows.filter((r) => tenantOf.get(r.id) === wanted);
    if (params.contextId) {
      // A noted context that differs leaves the row out unread; the others are read and compared.
      rows = rows.filter((r) => {
        const note = notes.get(r.id);
        if (note === undefined) return true;
        return note.context === ""
          ? r.task !== undefined && r.id === params.contextId
          : note.context === digest;
      });
      await this.readEnvelopes(rows, envelopes);
      rows = rows.filter((r) => {
        const envelope = envelopes.get(r.id);
        const contextId = r.task !== undefined ? envelope?.contextId || r.id : envelope?.contextId;
        return contextId === params.contextId;
      });
    }
    rows.sort((a, b) => (a.at === b.at ? b.id.localeCompare(a.id) : b.at.localeCompare(a.at)));
    const totalSize = rows.length;
    if (params.pageToken) {
      const [at, id] = decodePageToken(params.pageToken);
      rows = rows.filter((r) => r.at < at || (r.at === at && r.id < id));
    }
    const page = rows.slice(0, pageSize);
    // Only now the envelopes of the page (each carries its whole conversation).
    await this.readEnvelopes(page, envelopes);
    const tasks = await Promise.all(
      page.map(async (row) => {
        const envelope = envelopes.get(row.id);
        // A refused task is its envelope (no artifacts); one gone since the index was read is left out.
        if (row.task === undefined) return envelope;
        const view = toA2ATask(row.task, envelope);
        return params.includeArtifacts ? view : { ...view, artifacts: [] };
      }),
    );
    const last = page.at(-1);
    const nextPageToken =
      last !== undefined && rows.length > page.length ? encodePageToken(last.at, last.id) : "";
    return {
      tasks: tasks.filter((t): t is Task => t !== undefined),
      nextPageToken,
      pageSize,
      totalSize,
    };
  }

  private async candidates(): Promise<TaskDict[]> {
    const byId = new Map<string, TaskDict>();
    const openIds = (await this.coordinator.ledger.openTaskIds()).slice(0, MAX_OPEN_LISTED);
    // readTask: one that ended since is shown ended only once its spawned tasks exist.
    const tasks = await Promise.all(openIds.map((id) => this.coordinator.core.readTask(id)));
    for (const t of tasks) if (t !== null) byId.set(t.task_id, t);
    // A task that finished since the open ids were read is listed as finished. Finished tasks
    // come from every live coordinator's window (GET /tasks); one that does not answer is left out.
    const finished = await clusterFinished(this.coordinator, {
      limit: Number.POSITIVE_INFINITY,
      apiToken: this.apiToken,
    });
    for (const t of finished.tasks) byId.set(t.task_id, t);
    return [...byId.values()];
  }

  /** Reads into `envelopes` the envelopes of the rows not read yet (undefined: it has none). */
  private async readEnvelopes(rows: Row[], envelopes: Map<string, Task | undefined>): Promise<void> {
    const unread = rows.filter((r) => !envelopes.has(r.id));
    const loaded = await Promise.all(unread.map((r) => this.stored(r.id)));
    for (const [i, r] of unread.entries()) envelopes.set(r.id, loaded[i]?.task);
  }

  /** The task's A2A envelope and the tenant it was started for ("" for none); undefined when there is none. */
  private async stored(taskId: string): Promise<{ task: Task; tenant: string } | undefined> {
    const stored = await this.coordinator.store.get(envelopeKey(taskId));
    if (stored === null) return undefined;
    const tenant = (stored as { [TENANT_FIELD]?: unknown })[TENANT_FIELD];
    return { task: Task.fromJSON(stored), tenant: typeof tenant === "string" ? tenant : "" };
  }
}

/** A task as ListTasks sorts and filters it: a Triad task (`task`), or one refused before (`context`). */
type Row = { id: string; at: string; state: TaskState; task?: TaskDict; context?: string };

/** Where an envelope keeps its task's tenant (beside the A2A Task's own fields; Task.fromJSON ignores it). */
const TENANT_FIELD = "triad_tenant";

function envelopeKey(taskId: string): string {
  return `a2a:task:${taskId}`;
}

function encodePageToken(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString("base64url");
}

function decodePageToken(token: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) {
      return value as [string, string];
    }
  } catch {
    // falls through to the refusal below
  }
  throw new RequestMalformedError(`pageToken ${JSON.stringify(token)} is not one this server handed out`);
}
