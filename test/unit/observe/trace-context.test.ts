import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import {
  formatTraceparent,
  parseTraceparent,
  startTaskSpan,
  traceparentOf,
} from "../../../src/agents/observe/trace-context.js";

/** W3C trace context as it rides beside tasks: strict to read, and a no-op without an SDK. */

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("W3C traceparent", () => {
  it("reads a valid traceparent as a remote span context, and writes it back the same", () => {
    const sc = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(sc).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc!)).toBe(`00-${TRACE}-${SPAN}-01`);
  });

  it("reads a later version by its first four fields, as the spec asks", () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-00-extra`)?.traceId).toBe(TRACE);
  });

  it.each([
    ["nothing", undefined],
    ["garbage", "not a traceparent"],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["an all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["the forbidden version ff", `ff-${TRACE}-${SPAN}-01`],
    ["version 00 with more fields", `00-${TRACE}-${SPAN}-01-extra`],
    ["a short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
  ])("refuses %s", (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it("without an SDK a span carries no context of its own: nothing to send, or the parent's passed through", () => {
    expect(trace.getTracerProvider().constructor.name).toBe("ProxyTracerProvider");
    expect(traceparentOf(startTaskSpan("triad.submit"))).toBeUndefined();
    const child = startTaskSpan("triad.dispatch", { parent: `00-${TRACE}-${SPAN}-01` });
    expect(traceparentOf(child)).toBe(`00-${TRACE}-${SPAN}-01`);
  });
});
