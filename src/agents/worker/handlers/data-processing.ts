import { z } from "zod";
import type { JsonObject, JsonValue } from "../../../core/json.js";
import { badPayload } from "./handler-error.js";

/**
 * `data_processing`: runs `payload.operations` in order over `payload.data` (an array) and
 * returns `{ data, count }`. Fields are names of keys of the items (items that are objects).
 *
 *   { op: "filter", field, equals? | not_equals? | gt? | gte? | lt? | lte? | in? }
 *   { op: "map", field }                        each item -> item[field]
 *   { op: "sort", field?, order?: "asc" | "desc" }
 *   { op: "dedupe", field? }                    keeps the first item of each value
 *   { op: "group", by, aggregate: { name: { op: "count" | "sum" | "mean" | "min" | "max", field? } } }
 *                                               -> one { [by]: value, ...name: number } per group
 *   { op: "limit", count }
 *
 * With no `operations` the data passes through (the seed's example submits `payload: {}`).
 */
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
const field = z.string().min(1);
const aggregate = z.object({ op: z.enum(["count", "sum", "mean", "min", "max"]), field: field.optional() });
const operation = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("filter"),
    field,
    equals: jsonValue.optional(),
    not_equals: jsonValue.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    in: z.array(jsonValue).optional(),
  }),
  z.object({ op: z.literal("map"), field }),
  z.object({ op: z.literal("sort"), field: field.optional(), order: z.enum(["asc", "desc"]).default("asc") }),
  z.object({ op: z.literal("dedupe"), field: field.optional() }),
  z.object({ op: z.literal("group"), by: field, aggregate: z.record(z.string(), aggregate).default({}) }),
  z.object({ op: z.literal("limit"), count: z.number().int().nonnegative() }),
]);
const schema = z.object({ data: z.array(jsonValue).default([]), operations: z.array(operation).default([]) });
type Operation = z.infer<typeof operation>;

/** `item[name]`, own members only: a field named "constructor" or "__proto__" is data, not Object.prototype's. */
const get = (item: JsonValue, name: string | undefined): JsonValue =>
  name === undefined
    ? item
    : item !== null && typeof item === "object" && !Array.isArray(item) && Object.hasOwn(item, name)
      ? (item[name] ?? null)
      : null;

const key = (v: JsonValue): string => JSON.stringify(v);

function compare(a: JsonValue, b: JsonValue): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

function keep(item: JsonValue, op: Extract<Operation, { op: "filter" }>): boolean {
  const v = get(item, op.field);
  if (op.equals !== undefined && key(v) !== key(op.equals)) return false;
  if (op.not_equals !== undefined && key(v) === key(op.not_equals)) return false;
  if (op.in !== undefined && !op.in.some((x) => key(x) === key(v))) return false;
  const bounds = [op.gt, op.gte, op.lt, op.lte];
  if (bounds.some((b) => b !== undefined) && typeof v !== "number") return false;
  const n = v as number;
  return !(
    (op.gt !== undefined && !(n > op.gt)) ||
    (op.gte !== undefined && !(n >= op.gte)) ||
    (op.lt !== undefined && !(n < op.lt)) ||
    (op.lte !== undefined && !(n <= op.lte))
  );
}

function aggregateGroup(items: JsonValue[], spec: z.infer<typeof aggregate>): number | null {
  if (spec.op === "count") return items.length;
  const nums = items.map((i) => get(i, spec.field)).filter((v): v is number => typeof v === "number");
  if (nums.length === 0) return null;
  if (spec.op === "sum") return nums.reduce((a, b) => a + b, 0);
  if (spec.op === "mean") return nums.reduce((a, b) => a + b, 0) / nums.length;
  // A loop, not Math.min(...nums): 200,000 arguments overflow the stack.
  return spec.op === "min" ? nums.reduce((a, b) => Math.min(a, b)) : nums.reduce((a, b) => Math.max(a, b));
}

function apply(data: JsonValue[], op: Operation): JsonValue[] {
  switch (op.op) {
    case "filter":
      return data.filter((item) => keep(item, op));
    case "map":
      return data.map((item) => get(item, op.field));
    case "sort": {
      const sign = op.order === "desc" ? -1 : 1;
      return [...data].sort((a, b) => sign * compare(get(a, op.field), get(b, op.field)));
    }
    case "dedupe": {
      const seen = new Set<string>();
      return data.filter((item) => {
        const k = key(get(item, op.field));
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    case "group": {
      const groups = new Map<string, { value: JsonValue; items: JsonValue[] }>();
      for (const item of data) {
        const value = get(item, op.by);
        const g = groups.get(key(value)) ?? { value, items: [] };
        g.items.push(item);
        groups.set(key(value), g);
      }
      return [...groups.values()].map((g) => {
        // Built from entries, so every name (even "__proto__") becomes a member, never a prototype.
        const aggregates = Object.entries(op.aggregate).map(([name, spec]) => [
          name,
          aggregateGroup(g.items, spec),
        ]);
        return Object.fromEntries([[op.by, g.value], ...aggregates]) as JsonObject;
      });
    }
    case "limit":
      return data.slice(0, op.count);
  }
}

export function dataProcessing(payload: JsonObject): JsonValue {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badPayload("data_processing", `${issue.path.join(".") || "payload"}: ${issue.message}`);
  }
  const data = parsed.data.operations.reduce(apply, parsed.data.data);
  return { data, count: data.length };
}
