import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TimeInput,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";

/**
 * Traces of tasks through `@opentelemetry/api`: with no OpenTelemetry SDK installed every span
 * is a no-op and nothing is carried; with one, each task is one trace across the three tiers
 * (submit -> dispatch -> execute -> commit). The context crosses tiers as a W3C `traceparent`
 * string riding beside the task in our payloads, so nothing depends on a context manager or a
 * propagator being installed.
 */

/** The instrumentation scope name users filter on. */
export const TRACER_NAME = "triad";

let cached: { provider: TracerProvider; tracer: Tracer } | undefined;
/** Our tracer from the global provider; a provider registered later (or a new global one) is honoured. */
function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer(TRACER_NAME) };
  return cached.tracer;
}

/** What the global provider hands out while no SDK has registered one (the API's no-op provider). */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/** No SDK registered: every span would be a no-op (checked per span: an SDK may register later). */
function noSdk(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_SDK;
}

/** Whether a submit would make or carry a span: false with no SDK and no span active in the caller's context. */
export function submitTraced(): boolean {
  return !noSdk() || !noActiveSpan();
}

/** Whether a step under `parent` (a traceparent) would make or carry a span: false with no SDK and no parent. */
export function traced(parent: string | undefined): boolean {
  return parent !== undefined || !noSdk();
}

/**
 * The span a task step gets when there is no SDK and no parent context to carry on: what the
 * no-op tracer would make (a span of no valid context, recording nothing), made once.
 */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export type TaskSpanName = "triad.submit" | "triad.dispatch" | "triad.execute" | "triad.commit";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** The W3C `traceparent` of a span, or undefined when it carries no valid context (no SDK). */
export function traceparentOf(span: Span): string | undefined {
  return formatTraceparent(span.spanContext());
}

export function formatTraceparent(sc: SpanContext): string | undefined {
  if (sc === INVALID_SPAN_CONTEXT || !isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** Parses a W3C `traceparent` (version 00, or a later one read as 00); undefined when it is not one. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (typeof value !== "string") return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (m === null || m[1] === "ff") return undefined;
  if (m[1] === "00" && value.trim().length !== 55) return undefined;
  const sc: SpanContext = {
    traceId: m[2]!,
    spanId: m[3]!,
    traceFlags: Number.parseInt(m[4]!, 16) & 0xff,
    isRemote: true,
  };
  return isSpanContextValid(sc) ? sc : undefined;
}

/**
 * The context to start a span under: the one a `traceparent` names; else, when `fallback` is
 * "active", the caller's active context (an HTTP server span, say), else a new root.
 */
export function parentContext(
  traceparent: string | undefined,
  fallback: "active" | "root" = "root",
): Context {
  const sc = parseTraceparent(traceparent);
  if (sc !== undefined) return trace.setSpanContext(ROOT_CONTEXT, sc);
  return fallback === "active" ? context.active() : ROOT_CONTEXT;
}

export type TaskSpanOptions = {
  /** W3C context of the parent span; without it, see `fallback`. */
  parent?: string | undefined;
  fallback?: "active" | "root";
  /** Asked for only when the span records (with no SDK, nothing is built on the task's path). */
  attributes?: () => Attributes;
  startTime?: TimeInput;
  kind?: SpanKind;
};

/** Starts one of the four task spans. End it with `endTaskSpan`. */
export function startTaskSpan(name: TaskSpanName, options: TaskSpanOptions = {}): Span {
  // On every task's path: with no SDK and nothing to carry on, no span, context or parse is made.
  if (options.parent === undefined && noSdk() && (options.fallback !== "active" || noActiveSpan())) {
    return NO_SPAN;
  }
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, startTime: options.startTime },
    parentContext(options.parent, options.fallback),
  );
  if (options.attributes && span.isRecording()) span.setAttributes(options.attributes());
  return span;
}

/** Ends a span, marked as an error with `error` when given. Answers the span's traceparent. */
export function endTaskSpan(
  span: Span,
  error?: string | null,
  attributes?: () => Attributes,
): string | undefined {
  if (span.isRecording()) {
    if (attributes) span.setAttributes(attributes());
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  }
  span.end();
  return traceparentOf(span);
}

/** A span that started at `startTime` and ends now (for steps whose beginning was only noted). */
export function recordTaskSpan(
  name: TaskSpanName,
  options: TaskSpanOptions & { error?: string | null },
): string | undefined {
  return endTaskSpan(startTaskSpan(name, options), options.error);
}

/** Runs `fn` with `span` as the active span, so spans a handler makes nest under it (needs a context manager). */
export function withSpan<T>(span: Span, fn: () => T): T {
  if (span === NO_SPAN) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

function noActiveSpan(): boolean {
  return trace.getSpan(context.active()) === undefined;
}

export { SpanKind };

/** Attribute names, in one place (OpenTelemetry semantic conventions where one fits). */
export const ATTR = {
  taskId: "triad.task.id",
  taskType: "triad.task.type",
  agentId: "triad.agent.id",
  distributorId: "triad.distributor.id",
  workerId: "triad.worker.id",
  fence: "triad.task.fence",
  attempt: "triad.task.attempt",
  verdict: "triad.commit.verdict",
  status: "triad.task.status",
  duplicate: "triad.task.duplicate",
  /** The request_id of the A2A message that brought the task to this step (causal metadata). */
  requestId: "messaging.message.id",
  sender: "triad.message.sender",
} as const;
