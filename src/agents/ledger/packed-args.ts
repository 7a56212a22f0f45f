/**
 * A grouped script's ARGV packed into one value (scripts/each-group.lua splits it back): every
 * value joined with a NUL byte between two. node-redis encodes each argument of a command with
 * four string concatenations, so a batch of n tasks of five values each cost 5n of them on every
 * task's path; packed, the batch costs one join and one argument's encoding. Nothing the store
 * holds changes: the script reads the same values either way.
 */

const SEP = "\u0000";

/**
 * `args` packed into one value, or `args` unchanged when packing cannot be read back (a value
 * holds a NUL byte) or saves nothing (fewer than two values). An unpacked grouped ARGV always
 * holds at least three values, so one value tells the script it is packed.
 */
export function packedArgs(args: (string | number)[]): (string | number)[] {
  if (args.length < 2) return args;
  for (const arg of args) if (typeof arg === "string" && arg.includes(SEP)) return args;
  return [args.join(SEP)];
}

/** The values of a grouped ARGV as the embedded twins read them: split back when packed. */
export function unpackedArgs(args: string[]): string[] {
  return args.length === 1 ? args[0]!.split(SEP) : args;
}
