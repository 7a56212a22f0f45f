/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every
 * sample must belong to a family declared with # HELP and # TYPE, names and labels must be
 * well-formed, counters must be non-negative, and each histogram's buckets must be cumulative
 * and end in +Inf equal to its _count. Throws with the offending line otherwise.
 */

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; type: string; help: string; samples: Sample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line.trim() === "") return;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!name || !NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      const family = families.get(name) ?? { name, type: "", help: "", samples: [] };
      if (kind === "TYPE") {
        if (!TYPES.has(rest[0] ?? "")) throw new Error(`bad type, ${where}`);
        if (family.type) throw new Error(`second TYPE, ${where}`);
        family.type = rest[0]!;
      } else family.help = rest.join(" ");
      families.set(name, family);
      return;
    }
    if (line.startsWith("#")) return;
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (!family?.type) throw new Error(`sample of an undeclared family, ${where}`);
    family.samples.push(sample);
  });
  for (const family of families.values()) check(family);
  return families;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
  if (m === null) throw new Error(`not a sample, ${where}`);
  const labels: Record<string, string> = {};
  const body = m[3] ?? "";
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
  let at = 0;
  while (at < body.length) {
    re.lastIndex = at;
    const l = re.exec(body);
    if (l === null || !LABEL.test(l[1]!)) throw new Error(`bad labels, ${where}`);
    if (l[1]! in labels) throw new Error(`repeated label ${l[1]}, ${where}`);
    labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    at = re.lastIndex;
  }
  const raw = m[4]!;
  // Go's ParseFloat (Prometheus's) reads NaN and Inf in any case; prom-client writes "Nan".
  const special: Record<string, number> = {
    nan: Number.NaN,
    "+inf": Infinity,
    inf: Infinity,
    "-inf": -Infinity,
  };
  const value = raw.toLowerCase() in special ? special[raw.toLowerCase()]! : Number(raw);
  if (Number.isNaN(value) && raw.toLowerCase() !== "nan") throw new Error(`bad value, ${where}`);
  return { name: m[1]!, labels, value };
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && (family.type === "histogram" || family.type === "summary")) return family;
  }
  return undefined;
}

function check(family: Family): void {
  if (family.type === "counter") {
    for (const s of family.samples) {
      if (!(s.value >= 0)) throw new Error(`counter ${s.name} is ${s.value}`);
    }
  }
  if (family.type !== "histogram") return;
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`bucket of ${family.name} without le`);
      entry.buckets.push([le === "+Inf" ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith("_count")) entry.count = s.value;
    series.set(key, entry);
  }
  for (const [key, { buckets, count }] of series) {
    const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    const inf = sorted[sorted.length - 1];
    if (inf?.[0] !== Infinity || inf[1] !== count) {
      throw new Error(`${family.name}${key}: +Inf bucket ${inf?.[1]} is not _count ${count}`);
    }
  }
}

/** The sum of the samples named `name` whose labels include `match`. */
export function sumOf(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): number {
  const family = familyOf(families, name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  return family.samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
