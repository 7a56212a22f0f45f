import { randomBytes } from "node:crypto";
import { isStoreUnavailable } from "../core/errors.js";
import type { JsonObject } from "../core/json.js";
import { type Logger, silentLogger } from "../core/logger.js";
import {
  A2AClient,
  type A2AConfig,
  type A2AMessage,
  checkSharedSecret,
  MessageType,
} from "../core/messaging/index.js";
import { LangGraphAgent } from "../core/state/index.js";
import { checkedId } from "./agent-options.js";
import type { MessageObserver } from "./observe/message-observer.js";
import { PACKED_TASKS } from "./packed-tasks.js";
import { parseAgentPayload } from "./parse-payload.js";
import type { AgentPayload } from "./protocol.js";

/** A2A settings of an agent; without a secret it takes TRIAD_SECRET, else a secret of this process. */
export type AgentA2AConfig = Omit<A2AConfig, "tokenSecret" | "agentId"> & {
  agentId?: string;
  tokenSecret?: string;
  /** The URL this agent tells its peers to reach it at (a proxy in front of it); default its listener's. */
  advertiseUrl?: string;
};

let processSecret: string | undefined;

/**
 * The shared secret: the config's, else TRIAD_SECRET, else one made for this process (in-process
 * agents only). TRIAD_SECRET is a deployment's secret, held to MIN_SECRET_BYTES here as in the
 * CLI (ERR_SECRET_TOO_SHORT); a secret passed in code is the program's own choice (the seed's
 * API examples pass "secret"), taken as given.
 */
export function resolveSecret(given: string | undefined): string {
  if (given) return given;
  if (process.env.TRIAD_SECRET) return checkSharedSecret(process.env.TRIAD_SECRET, "TRIAD_SECRET");
  processSecret ??= randomBytes(32).toString("hex");
  return processSecret;
}

/**
 * What the three agents share: an A2A client (in-process router by default, HTTP when it
 * listens on agentPort), validated agent payloads inside EVENT and HEARTBEAT messages, and a
 * logger. Messages are dispatched through the LangGraph message graph of LangGraphAgent.
 */
export abstract class TriadAgent extends LangGraphAgent {
  readonly a2a: A2AClient;
  protected readonly log: Logger;
  private readonly listenOnPort: boolean;
  private readonly advertiseUrl: string | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(options: { agentId: string; a2a?: AgentA2AConfig; logger?: Logger | undefined; tier: string }) {
    super({ agentId: checkedId("agentId", options.agentId) });
    const { advertiseUrl, ...a2a } = options.a2a ?? {};
    this.advertiseUrl = advertiseUrl;
    this.log = (options.logger ?? silentLogger).child({ agent: options.agentId, tier: options.tier });
    this.listenOnPort = a2a.agentPort !== undefined;
    this.a2a = new A2AClient({
      // Task lists as columns for peers in other processes that read them (packed-tasks.ts).
      payloadCodec: PACKED_TASKS,
      ...a2a,
      agentId: options.agentId,
      tokenSecret: resolveSecret(a2a.tokenSecret),
      onRejected: (event) => {
        this.log.warn({ rejected: event }, "refused a message");
        a2a.onRejected?.(event);
      },
      onHandlerError: (event) => {
        this.log.error({ handlerError: event }, "a message handler failed");
        a2a.onHandlerError?.(event);
      },
    });
    const handle = (m: A2AMessage) => this.processMessage(m);
    for (const type of [MessageType.EVENT, MessageType.HEARTBEAT, MessageType.REQUEST])
      this.a2a.registerHandler(type, handle);
  }

  /**
   * Starts the HTTP listener when an agentPort was configured; resolves with the URL peers are
   * to use (the advertised one if given, else the listener's; null in-process).
   */
  protected async startTransport(): Promise<string | null> {
    if (!this.listenOnPort) return null;
    const { url } = await this.a2a.listen();
    this.log.info({ url, advertised: this.advertiseUrl ?? url }, "listening for A2A messages");
    return this.advertiseUrl ?? url;
  }

  /** Sends one of our payloads as an EVENT (or a HEARTBEAT), resolved once the peer accepted it. */
  protected async sendPayload(recipient: string, payload: AgentPayload): Promise<void> {
    const observer = this.messageObserver();
    const out = observer?.sending
      ? this.observed(() => observer.sending!(recipient, payload), payload)
      : payload;
    const { kind, ...data } = out as AgentPayload & JsonObject;
    const message =
      kind === "worker_status" || kind === "distributor_status"
        ? await this.a2a.sendHeartbeat(recipient, out as unknown as JsonObject, {
            timeoutMs: this.heartbeatPatienceMs(),
          })
        : await this.a2a.sendEvent(recipient, kind, data as JsonObject, { handOver: this.handsOver(kind) });
    if (observer?.sent) this.observed(() => observer.sent!(message, out), undefined);
  }

  /**
   * How long one of this agent's heartbeats is retried (undefined: the client's sendTimeoutMs). A
   * heartbeat delivered after the next was due would tell its receiver what is no longer so.
   */
  protected heartbeatPatienceMs(): number | undefined {
    return undefined;
  }

  /**
   * Whether payloads of this kind are handed over (A2AClient.sendEvent's `handOver`): built by
   * this agent for the one message and never changed after, nor anything in them. None by default.
   */
  protected handsOver(_kind: string): boolean {
    return false;
  }

  /** What follows this agent's messages (tracing, task history); none by default. */
  protected messageObserver(): MessageObserver | undefined {
    return undefined;
  }

  /** An observer's fault is logged, never the agent's: the message goes on as it was. */
  private observed<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      this.log.warn({ err }, "a message observer failed");
      return fallback;
    }
  }

  /**
   * Whether `message`'s sender may speak as a `role` (its key was registered with another role:
   * refused, counted and logged as `unauthorized`). Under a shared secret, or for a key
   * registered without a role, there is nothing to tell: true.
   */
  protected speaksAs(message: A2AMessage, role: "coordinator" | "distributor" | "worker"): boolean {
    const registered = this.a2a.senderRole(message.sender);
    if (registered === undefined || registered === role) return true;
    const what = message.type === MessageType.HEARTBEAT ? "heartbeat" : String(message.payload.event_type);
    this.a2a.refuseUnauthorized({
      sender: message.sender,
      requestId: message.metadata.request_id,
      detail: `${what} from ${message.sender}, whose key is a ${registered}'s, not a ${role}'s`,
    });
    return false;
  }

  /** The validated payload of a message from another agent, or null (logged) when it is not one. */
  protected payloadOf(message: A2AMessage): AgentPayload | null {
    const raw =
      message.type === MessageType.HEARTBEAT
        ? message.payload.status
        : {
            kind: message.payload.event_type,
            ...((message.payload.event_data as JsonObject | undefined) ?? {}),
          };
    const parsed = parseAgentPayload(raw);
    if (parsed.ok) {
      const observer = this.messageObserver();
      if (observer?.received) this.observed(() => observer.received!(message, parsed.value), undefined);
      return parsed.value;
    }
    this.log.warn(
      { from: message.sender, type: message.type, error: parsed.error },
      "ignored a payload that is not ours",
    );
    return null;
  }

  /** Runs `fn` every `ms`, its errors logged, never overlapping itself; cleared by cleanup(). */
  protected every(ms: number, name: string, fn: () => Promise<unknown> | unknown): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => {
          // A store outage is logged once, when it starts (logStoreOutages), not at every tick.
          if (isStoreUnavailable(err)) this.log.debug({ err, task: name }, "periodic task failed");
          else this.log.warn({ err, task: name }, "periodic task failed");
        })
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  protected stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  override async cleanup(): Promise<void> {
    this.stopTimers();
    await this.a2a.close();
  }
}
