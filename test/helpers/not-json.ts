/**
 * Values that are not plain JSON, each a way JSON.stringify would drop, rewrite or refuse it:
 * what every plain-JSON check (canonicalising, isPlainJson) must refuse, at the top or nested.
 */
export const NOT_JSON: Array<[string, unknown]> = [
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["undefined", undefined],
  ["a function", () => 1],
  ["a bigint", 1n],
  ["a Date (JSON.stringify would write its toJSON instead)", new Date(0)],
  [
    "a class instance",
    new (class Point {
      x = 1;
    })(),
  ],
  ["a Map", new Map([["k", 1]])],
];
