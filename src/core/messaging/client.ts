import { randomBytes, randomUUID } from "node:crypto";
import { TriadError } from "../errors.js";
import type { JsonValue } from "../json.js";
import {
  AgentKeySigner,
  AgentKeyVerifier,
  ED25519_SIGNATURE_LENGTH,
  HMAC_SIGNATURE_LENGTH,
  keyringVerifier,
  type MessageSigner,
  type MessageVerifier,
  type PublicKeyDirectory,
} from "./agent-keys.js";
import { canonicalJsonWithout } from "./canonical-json.js";
import { type A2AConfig, type ResolvedA2AConfig, resolveA2AConfig } from "./config.js";
import { FailureBudget } from "./http/failure-budget.js";
import { HttpTransport } from "./http/http-transport.js";
import { type A2AServer, startA2AServer } from "./http/server.js";
import { Inbox, isCharged, type MessageHandler } from "./inbox.js";
import { Keyring } from "./keyring.js";
import { MessageGate } from "./message-gate.js";
import { checkMessageShape, MAX_ID_LENGTH, PROTOCOL_VERSION } from "./message-shape.js";
import type { PayloadCodec } from "./payload-codec.js";
import { PendingRequests } from "./pending-requests.js";
import { assertPlainPayload, isPlainObject, jsonProblem } from "./plain-json.js";
import type { A2AStats, HandlerErrorEvent, HttpStats, RejectionEvent } from "./rejections.js";
import { ReplayCache } from "./replay-cache.js";
import {
  type A2ARouter,
  type Delivery,
  defaultRouter,
  deliverInProcess,
  type RouterEndpoint,
} from "./router.js";
import { signedLineBytes, withSignature } from "./signed-line.js";
import { formatTimestamp } from "./timestamp.js";
import { type A2AMessage, MessageType } from "./types.js";

const MESSAGE_TYPES = new Set<string>(Object.values(MessageType));

/**
 * One agent's end of A2A messaging (seed: A2AClient). Creates and signs messages, sends them
 * to HTTP peers it knows (`setPeer`) or else through its in-process router, and admits what it
 * receives only after checking shape, addressee, freshness, signature and request-id
 * uniqueness. See docs for the wire format and key rotation.
 */
export class A2AClient implements RouterEndpoint {
  readonly agentId: string;
  /** The shared secrets (HMAC, the default); with per-agent keys (agentKeys) it neither signs nor verifies. */
  readonly keyring: Keyring;
  private readonly signer: MessageSigner;
  private readonly verifier: MessageVerifier;
  private readonly directory: PublicKeyDirectory | undefined;
  private readonly config: ResolvedA2AConfig;
  private readonly router: A2ARouter | null;
  private readonly replayCache: ReplayCache;
  private readonly pending: PendingRequests;
  private readonly inbox: Inbox;
  private readonly httpStats: HttpStats = {
    posts: 0,
    messagesPosted: 0,
    streamsOpened: 0,
    streamWrites: 0,
    messagesStreamed: 0,
    retries: 0,
    undelivered: 0,
    queued: 0,
    requestsServed: 0,
  };
  private readonly http: HttpTransport;
  /** What each HTTP peer may cost in messages that fail admission. */
  private readonly failureBudget: FailureBudget;
  /** The listener, once listen() was called (one promise, so concurrent calls share one server). */
  private listening: Promise<A2AServer> | null = null;
  private server: A2AServer | null = null;
  private httpFallback: A2AConfig["httpFallback"];
  /** See A2AConfig.payloadCodec. */
  private readonly payloadCodec: PayloadCodec | undefined;
  /** What a signature adds to a message's canonical text on the wire (see signedLineBytes). */
  private readonly signatureBytes: number;
  private sequence = 0;
  private sent = 0;
  private closed = false;

  constructor(config: A2AConfig) {
    this.config = resolveA2AConfig(config);
    this.httpFallback = config.httpFallback;
    const c = this.config;
    this.agentId = c.agentId;
    const previous = Object.entries(c.previousSecrets).map(([id, secret]) => ({ id, secret }));
    // With per-agent keys a secret is not needed; the keyring then holds one nobody knows.
    const secret = c.tokenSecret || randomBytes(32).toString("hex");
    this.keyring = new Keyring({ id: c.keyId, secret }, previous);
    if (config.agentKeys) {
      this.signer = new AgentKeySigner(config.agentKeys.privateKey);
      this.verifier = new AgentKeyVerifier(config.agentKeys.directory);
      this.directory = config.agentKeys.directory;
      this.signatureBytes = signedLineBytes(ED25519_SIGNATURE_LENGTH);
    } else {
      this.signer = this.keyring;
      this.verifier = keyringVerifier(this.keyring);
      this.signatureBytes = signedLineBytes(HMAC_SIGNATURE_LENGTH);
    }
    this.replayCache = new ReplayCache({
      capacity: c.replayCacheSize,
      ttlMs: 2 * c.maxClockSkewSeconds * 1000,
    });
    this.pending = new PendingRequests(c.maxPendingRequests);
    const gate = new MessageGate({
      agentId: c.agentId,
      verifier: this.verifier,
      maxClockSkewMs: c.maxClockSkewSeconds * 1000,
      replayCache: this.replayCache,
      now: c.now,
      codec: config.payloadCodec,
    });
    this.payloadCodec = config.payloadCodec;
    this.inbox = new Inbox(gate, this.pending, c.maxConcurrentHandlers);
    if (config.onRejected) this.inbox.rejectionListeners.add(config.onRejected);
    if (config.onHandlerError) this.inbox.handlerErrorListeners.add(config.onHandlerError);
    this.http = new HttpTransport({ ...c, stats: this.httpStats });
    this.failureBudget = new FailureBudget(c.failureBudget);
    for (const [agentId, url] of Object.entries(c.peers)) this.http.setPeer(agentId, url);
    this.router = config.router === undefined ? defaultRouter() : config.router;
    this.router?.registerAgent(this.agentId, this);
  }

  /** A signed message from this agent; `sequence_number` counts up by one per message created. */
  createMessage(
    recipient: string,
    payload: Record<string, JsonValue>,
    messageType: MessageType = MessageType.REQUEST,
    parentRequestId: string | null = null,
  ): A2AMessage {
    return this.signed(recipient, payload, messageType, parentRequestId).message;
  }

  /**
   * A new message and the canonical text its signature covers (checked as plain JSON in the same
   * walk). `unsigned`: for a route the router trusts (see A2ARouterOptions.signed), with
   * `signature` "" and no text: only checked as plain JSON — unless it is also `handedOver`: the
   * agent built it for this message from values checked where they came in (the router checks
   * it instead while it freezes handed-over messages, as the test suite has it do).
   * `maxBytes`: the body limit of the HTTP peer it goes to, checked on that canonical text before
   * it is signed (ERR_A2A_TOO_LARGE, as the send queue would refuse it): a message too large to go
   * costs one serialisation and no signature.
   */
  private signed(
    recipient: string,
    payload: Record<string, JsonValue>,
    messageType: MessageType,
    parentRequestId: string | null,
    unsigned = false,
    handedOver = false,
    maxBytes?: number,
  ): { message: A2AMessage; text: string | undefined } {
    if (typeof recipient !== "string" || recipient.length === 0 || recipient.length > MAX_ID_LENGTH) {
      throw invalidMessage(`recipient must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
    }
    if (!MESSAGE_TYPES.has(messageType)) throw invalidMessage(`unknown message type ${String(messageType)}`);
    if (
      parentRequestId !== null &&
      (typeof parentRequestId !== "string" ||
        parentRequestId.length === 0 ||
        parentRequestId.length > MAX_ID_LENGTH)
    ) {
      throw invalidMessage(
        `parentRequestId must be null or a non-empty string of at most ${MAX_ID_LENGTH} characters`,
      );
    }
    if (!isPlainObject(payload)) throw invalidMessage("payload must be a plain JSON object");
    const sequence = this.sequence + 1;
    // The seed's member order (what a reader of the wire expects); canonical JSON sorts these few.
    const message: A2AMessage = {
      type: messageType,
      sender: this.agentId,
      recipient,
      payload,
      metadata: {
        origin: this.agentId,
        version: PROTOCOL_VERSION,
        timestamp: formatTimestamp(this.config.now()),
        request_id: randomUUID(),
        parent_request_id: parentRequestId,
        sequence_number: sequence,
      },
      signature: "",
    };
    if (unsigned) {
      // Nested at most as deep as the canonical walk of the signed path allows (the same limit, tested).
      if (!handedOver) assertPlainPayload(payload);
      this.sequence = sequence;
      return { message, text: undefined };
    }
    let text: string;
    try {
      text = canonicalJsonWithout(message, "signature");
    } catch (err) {
      throw invalidMessage(jsonProblem(payload, "payload") ?? (err as Error).message);
    }
    if (maxBytes !== undefined) {
      const bytes = Buffer.byteLength(text) + this.signatureBytes;
      if (bytes > maxBytes) throw tooLarge(bytes, maxBytes, this.config.maxBodyBytes, recipient);
    }
    this.sequence = sequence;
    message.signature = this.signer.sign(text);
    return { message, text };
  }

  /** Whether a message this client builds for `recipient` goes unsigned: the router trusts that route, no HTTP peer has it. */
  private unsignedTo(recipient: string): boolean {
    return this.router !== null && !this.http.hasPeer(recipient) && this.router.trusts(recipient);
  }

  /**
   * Hex HMAC-SHA256 (current key) of the message's canonical JSON without `signature` (seed:
   * _sign_message); with per-agent keys, `ed25519:<base64url>` under this agent's key.
   */
  sign(message: A2AMessage): string {
    const problem = isPlainObject(message)
      ? jsonProblem(message, "message")
      : "message must be a plain object";
    if (problem !== null) throw invalidMessage(problem);
    return this.signer.sign(canonicalJsonWithout(message, "signature"));
  }

  /** Well-formed and signed by a key it accepts (seed: _verify_message). Freshness and replay are handleMessage's. */
  verify(message: unknown): boolean {
    try {
      const shape = checkMessageShape(message);
      if (!shape.ok || !this.verifier.wellFormed(shape.message.signature)) return false;
      const text = canonicalJsonWithout(shape.message, "signature");
      return this.verifier.verify(text, shape.message.signature, shape.message.sender).ok;
    } catch {
      return false;
    }
  }

  /** One handler per message type; a later registration replaces the earlier one. */
  registerHandler(messageType: MessageType, handler: MessageHandler): void {
    if (!MESSAGE_TYPES.has(messageType)) throw invalidMessage(`unknown message type ${String(messageType)}`);
    if (typeof handler !== "function") {
      throw new TriadError("ERR_INVALID_ARGUMENT", "a handler must be a function");
    }
    this.inbox.handlers.set(messageType, handler);
  }

  /** Admits and handles a message. False (never a throw) for anything refused, a duplicate, no handler, or a handler that threw. */
  handleMessage(message: unknown): Promise<boolean> {
    return this.inbox.handleMessage(message);
  }

  /** The in-process transport's entry (used by A2ARouter): a verdict now, the handler not awaited. */
  receive(message: unknown, via: "router"): Delivery {
    return this.inbox.receive(message, via);
  }

  /** The same for a message handed over as the text its signature covers (see A2ARouter.deliver). */
  receiveSigned(text: string, signature: string, via: "router"): Delivery {
    return this.inbox.receiveSigned(text, signature, via);
  }

  /** The same for a message another agent of this process built unsigned (an unsigned router only). */
  receiveTrusted(message: unknown, via: "router"): Delivery {
    return this.inbox.receiveTrusted(message, via);
  }

  /**
   * Delivers a message created by this client: over HTTP when its recipient is a known peer,
   * else through the in-process router. Resolves when the receiver accepted it (or already had
   * it); network failures are retried with the same request id until `timeoutMs` (default
   * sendTimeoutMs). Rejects with ERR_A2A_REJECTED, ERR_A2A_UNREACHABLE, ERR_A2A_NO_ROUTE,
   * ERR_A2A_QUEUE_FULL, ERR_A2A_TOO_LARGE or ERR_A2A_CLOSED.
   */
  async send(message: A2AMessage, options: { timeoutMs?: number } = {}): Promise<void> {
    const shape = checkMessageShape(message);
    if (!shape.ok) throw invalidMessage(shape.problem);
    return this.deliver(message, options.timeoutMs);
  }

  /**
   * send() without the shape check, for messages this client just built. `signedText`: the
   * canonical text the signature covers, when at hand (the router hands it on as is).
   */
  private async deliver(
    message: A2AMessage,
    requestedTimeoutMs?: number,
    signedText?: string,
    // Built unsigned in this same turn, for a route unsignedTo() had just allowed.
    unsigned = false,
    handOver = false,
  ): Promise<void> {
    if (this.closed) throw new TriadError("ERR_A2A_CLOSED", `A2A client ${this.agentId} is closed`);
    const timeoutMs = Math.min(requestedTimeoutMs ?? this.config.sendTimeoutMs, this.config.sendTimeoutMs);
    if (this.http.hasPeer(message.recipient))
      await this.http.send(
        message,
        timeoutMs,
        signedText === undefined ? undefined : withSignature(signedText, message.signature),
      );
    else await deliverInProcess(this.router, message, timeoutMs, signedText, unsigned, handOver);
    this.sent += 1;
  }

  /** Sends a REQUEST and resolves with its RESPONSE (paired by parent_request_id), or null after `timeoutMs`. */
  async sendRequest(
    recipient: string,
    payload: Record<string, JsonValue>,
    timeoutMs = 30_000,
  ): Promise<A2AMessage | null> {
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new TriadError("ERR_INVALID_ARGUMENT", `timeoutMs must be a positive number (got ${timeoutMs})`);
    }
    const unsigned = this.unsignedTo(recipient);
    const { message: request, text } = this.signed(
      recipient,
      payload,
      MessageType.REQUEST,
      null,
      unsigned,
      false,
      this.httpLimit(recipient, unsigned),
    );
    const requestId = request.metadata.request_id;
    const response = this.pending.open(requestId, recipient, timeoutMs);
    this.deliver(request, timeoutMs, text, unsigned).catch((err: Error) => this.pending.fail(requestId, err));
    return response;
  }

  /** Seed payload: { success, data: payload | null, error: payload | null }. */
  async sendResponse(
    recipient: string,
    parentRequestId: string,
    payload: Record<string, JsonValue>,
    success = true,
  ): Promise<A2AMessage> {
    const body = { success, data: success ? payload : null, error: success ? null : payload };
    return this.createAndSend(recipient, body, MessageType.RESPONSE, parentRequestId);
  }

  /**
   * Seed payload: { status }. `timeoutMs` (at most sendTimeoutMs): how long it is retried — a
   * heartbeat is worth sending only until the next one would go, never after it.
   */
  async sendHeartbeat(
    recipient: string,
    status: JsonValue,
    options: { timeoutMs?: number } = {},
  ): Promise<A2AMessage> {
    return this.createAndSend(recipient, { status }, MessageType.HEARTBEAT, null, false, options.timeoutMs);
  }

  /**
   * Seed payload: { event_type, event_data }. `handOver`: the caller gives `eventData` up — it
   * built it for this message and changes none of it afterwards — so a recipient in this
   * process, under an unsigned router, gets these very objects instead of a copy (and must not
   * change them either). Without it, every delivery shares nothing with the sender.
   */
  async sendEvent(
    recipient: string,
    eventType: string,
    eventData: Record<string, JsonValue>,
    options: { handOver?: boolean } = {},
  ): Promise<A2AMessage> {
    return this.createAndSend(
      recipient,
      { event_type: eventType, event_data: eventData },
      MessageType.EVENT,
      null,
      options.handOver === true,
    );
  }

  /** Serves POST /a2a on host:agentPort (0: a free port); resolves with where it listens. Idempotent. */
  async listen(): Promise<{ host: string; port: number; url: string }> {
    if (this.closed) throw new TriadError("ERR_A2A_CLOSED", `A2A client ${this.agentId} is closed`);
    this.listening ??= startA2AServer({
      agentId: this.agentId,
      host: this.config.host,
      port: this.config.agentPort,
      maxBodyBytes: this.config.maxBodyBytes,
      now: this.config.now,
      accept: (values, remote) => this.inbox.acceptBatch(values, remote, this.failureBudget),
      refuse: (reason, detail, remoteAddress) => {
        if (isCharged(reason)) this.failureBudget.charge(remoteAddress);
        // A throttled peer's flood is logged once, when it starts; every body is counted.
        const quiet = reason === "throttled" && !this.failureBudget.firstRefusal(remoteAddress);
        const event = { sender: null, requestId: null, via: "http" as const, remoteAddress };
        this.inbox.refuse(reason, detail, event, quiet);
      },
      budget: this.failureBudget,
      served: () => {
        this.httpStats.requestsServed += 1;
      },
      fallback: this.httpFallback,
      payloadCodec: this.payloadCodec?.name,
    }).catch((err: unknown) => {
      this.listening = null; // a failed listen may be tried again (the port may free up)
      throw err;
    });
    const server = await this.listening;
    this.server = server;
    return { host: server.host, port: server.port, url: server.url };
  }

  /** Serves every path but /a2a on the listener's port with `handler`; call it before listen(). */
  serveOtherRoutes(handler: NonNullable<A2AConfig["httpFallback"]>): void {
    this.httpFallback = handler;
  }

  /** The most bytes of a message body this agent takes over HTTP (and sends: peers share the setting). */
  get maxBodyBytes(): number {
    return this.config.maxBodyBytes;
  }

  /** Base URL of this agent's listener once listen() resolved, else null. */
  get url(): string | null {
    return this.server?.url ?? null;
  }

  /** From now on, messages for `agentId` go over HTTP to `url` (base URL of its listener). */
  setPeer(agentId: string, url: string): void {
    this.http.setPeer(agentId, url);
  }

  removePeer(agentId: string): boolean {
    return this.http.removePeer(agentId);
  }

  peerUrl(agentId: string): string | undefined {
    return this.http.peerUrl(agentId);
  }

  /**
   * The body limit HTTP peer `agentId` says it takes (undefined: it does not say). A signed
   * message to it over the smaller of that and this agent's own is refused here, before it is
   * signed (ERR_A2A_TOO_LARGE), instead of going to be refused by the peer (413).
   */
  setPeerLimit(agentId: string, maxBytes: number | undefined): void {
    this.http.setPeerLimit(agentId, maxBytes);
  }

  /**
   * Counts and reports, as a refused message (reason `unauthorized`, via "agent"), what an
   * admitted message said that its sender may not say: a result for another worker's attempt,
   * say. The agent calls this once per item it refuses; `quiet`: counted only, its listeners
   * (the log) not told (one of a flood already told of).
   */
  refuseUnauthorized(
    refused: { sender: string; requestId: string | null; detail: string },
    quiet = false,
  ): void {
    const { sender, requestId, detail } = refused;
    this.inbox.refuse("unauthorized", detail, { sender, requestId, via: "agent" }, quiet);
  }

  /**
   * The role registered with `agentId`'s key (per-agent keys): what an authentic message from it
   * may be. Undefined under a shared secret, where a sender's name proves nothing.
   */
  senderRole(agentId: string): string | undefined {
    return this.directory?.roleOf?.(agentId);
  }

  /** Calls `listener` for every refused message; returns the function that stops it. */
  onRejected(listener: (event: RejectionEvent) => void): () => void {
    this.inbox.rejectionListeners.add(listener);
    return () => this.inbox.rejectionListeners.delete(listener);
  }

  onHandlerError(listener: (event: HandlerErrorEvent) => void): () => void {
    this.inbox.handlerErrorListeners.add(listener);
    return () => this.inbox.handlerErrorListeners.delete(listener);
  }

  stats(): A2AStats {
    const { counts } = this.inbox;
    return {
      created: this.sequence,
      sent: this.sent,
      accepted: counts.accepted,
      duplicates: counts.duplicates,
      rejected: { ...counts.rejected },
      unhandled: counts.unhandled,
      handlerErrors: counts.handlerErrors,
      verifiedByKey: { ...counts.verifiedByKey },
      pendingRequests: this.pending.size,
      replayCache: { size: this.replayCache.size, capacity: this.config.replayCacheSize },
      http: { ...this.httpStats },
    };
  }

  /** Leaves the router, stops listening, refuses queued sends and answers waiting requests with null. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.router?.unregisterAgent(this.agentId, this);
    this.pending.closeAll();
    this.http.close();
    const server = await this.listening?.catch(() => null);
    await server?.close();
    this.server = null;
  }

  private async createAndSend(
    recipient: string,
    payload: Record<string, JsonValue>,
    type: MessageType,
    parentRequestId: string | null = null,
    handOver = false,
    timeoutMs?: number,
  ): Promise<A2AMessage> {
    const unsigned = this.unsignedTo(recipient);
    const codec = this.payloadCodec;
    // For a peer in another process that reads it, the payload goes in its shorter form.
    const body =
      codec !== undefined && this.http.decodes(recipient, codec.name) ? codec.encode(payload) : payload;
    const limit = this.httpLimit(recipient, unsigned);
    const { message, text } = this.signed(recipient, body, type, parentRequestId, unsigned, handOver, limit);
    await this.deliver(message, timeoutMs, text, unsigned, handOver);
    return message;
  }

  /**
   * The body limit a signed message to `recipient` is held to: over HTTP only (the router has
   * none), this agent's own or the smaller one the peer said it takes (setPeerLimit).
   */
  private httpLimit(recipient: string, unsigned: boolean): number | undefined {
    if (unsigned || !this.http.hasPeer(recipient)) return undefined;
    return Math.min(this.config.maxBodyBytes, this.http.peerLimit(recipient) ?? Number.POSITIVE_INFINITY);
  }
}

/**
 * The send queue's refusal of a message over the body limit (./http/peer-link.ts), word for
 * word; over a smaller one its recipient said it takes, naming the recipient.
 */
function tooLarge(bytes: number, limit: number, own: number, recipient: string): TriadError {
  const whose = limit < own ? ` that ${recipient} takes` : "";
  return new TriadError(
    "ERR_A2A_TOO_LARGE",
    `message of ${bytes} bytes is over the body limit of ${limit}${whose}`,
  );
}

function invalidMessage(detail: string): TriadError {
  return new TriadError("ERR_INVALID_MESSAGE", detail);
}
