import { isTriadError } from "../core/errors.js";
import { inputSpec } from "./commands/input-spec.js";
import { scheduleAddSpec, scheduleListSpec, scheduleRmSpec } from "./commands/schedule-spec.js";
import {
  cancelSpec,
  coordinatorSpec,
  distributorSpec,
  keysGenerateSpec,
  keysListSpec,
  keysRevokeSpec,
  statusSpec,
  submitSpec,
  upSpec,
  workerSpec,
} from "./commands/specs.js";
import {
  COMMON_FLAGS,
  type CommandSpec,
  helpText,
  type ParsedOptions,
  parseOptions,
  UsageError,
} from "./options.js";

type Command = { spec: CommandSpec; run: (options: ParsedOptions) => Promise<number> };

// Each command's module is loaded when it runs (see commands/specs.ts).
const COMMANDS: Record<string, Command> = {
  up: { spec: upSpec, run: async (o) => (await import("./commands/up.js")).up(o) },
  coordinator: {
    spec: coordinatorSpec,
    run: async (o) => (await import("./commands/coordinator.js")).coordinator(o),
  },
  distributor: {
    spec: distributorSpec,
    run: async (o) => (await import("./commands/distributor.js")).distributor(o),
  },
  worker: { spec: workerSpec, run: async (o) => (await import("./commands/worker.js")).worker(o) },
  submit: { spec: submitSpec, run: async (o) => (await import("./commands/submit.js")).submit(o) },
  status: { spec: statusSpec, run: async (o) => (await import("./commands/status.js")).status(o) },
  cancel: { spec: cancelSpec, run: async (o) => (await import("./commands/cancel.js")).cancel(o) },
  input: { spec: inputSpec, run: async (o) => (await import("./commands/input.js")).input(o) },
  "schedule add": {
    spec: scheduleAddSpec,
    run: async (o) => (await import("./commands/schedule.js")).scheduleAdd(o),
  },
  "schedule list": {
    spec: scheduleListSpec,
    run: async (o) => (await import("./commands/schedule.js")).scheduleList(o),
  },
  "schedule rm": {
    spec: scheduleRmSpec,
    run: async (o) => (await import("./commands/schedule.js")).scheduleRm(o),
  },
  "keys generate": {
    spec: keysGenerateSpec,
    run: async (o) => (await import("./commands/keys.js")).keysGenerate(o),
  },
  "keys list": { spec: keysListSpec, run: async (o) => (await import("./commands/keys.js")).keysList(o) },
  "keys revoke": {
    spec: keysRevokeSpec,
    run: async (o) => (await import("./commands/keys.js")).keysRevoke(o),
  },
};

/** Every option of every command: the keys a config file shared by several commands may hold. */
const CONFIG_KEYS: ReadonlySet<string> = new Set([
  ...COMMON_FLAGS.map((f) => f.name),
  ...Object.values(COMMANDS).flatMap((c) => c.spec.flags.map((f) => f.name)),
]);

const USAGE = `usage: triad <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.spec.name.padEnd(13)} ${c.spec.summary.split(". ")[0]}`)
  .join("\n")}

Run "triad <command> --help" for a command's options.
`;

/** The commands of two words, `triad keys <action>` and `triad schedule <action>`, by their first. */
const GROUPS = ["keys", "schedule"] as const;
const HELP = new Set(["--help", "-h", "help"]);

/** The commands of `group` (`keys add`, ...). */
function groupCommands(group: string) {
  return Object.values(COMMANDS).filter((c) => c.spec.name.startsWith(`${group} `));
}

/** A group's sub-command names, `add|list|rm`. */
function subCommands(group: string): string {
  return groupCommands(group)
    .map((c) => c.spec.name.slice(group.length + 1))
    .join("|");
}

/** `triad keys`, `triad schedule`: its sub-commands, each with its summary. */
function groupUsage(group: string): string {
  const subs = groupCommands(group);
  return `usage: triad ${group} <${subCommands(group)}> [options]

sub-commands:
${subs.map((c) => `  ${c.spec.name.padEnd(15)} ${c.spec.summary.split(". ")[0]}`).join("\n")}

Run "triad ${group} <sub-command> --help" for its options.
`;
}

/**
 * `triad keys|schedule` without a known sub-command: the sub-commands listed, on stdout with exit
 * 0 when help was asked for, else on stderr with exit 2 (none given, or an unknown one named).
 */
function groupHelp(group: string, sub: string | undefined): number {
  if (sub !== undefined && HELP.has(sub)) {
    process.stdout.write(groupUsage(group));
    return 0;
  }
  const why =
    sub === undefined || sub.startsWith("-")
      ? `a sub-command is needed, one of ${subCommands(group)}`
      : `unknown sub-command "${sub}"; one of ${subCommands(group)}`;
  process.stderr.write(`triad ${group}: ${why}\n\n${groupUsage(group)}`);
  return 2;
}

/**
 * Bad usage: the error with its code (ERR_USAGE, or one of its own, as every other error of the
 * CLI says its code) and the command's help; exit 2.
 */
function usageError(name: string, err: UsageError, spec: CommandSpec): number {
  process.stderr.write(`triad ${name}: ${err.message} [${err.code}]\n\n${helpText(spec)}`);
  return 2;
}

/** Runs one CLI invocation and resolves its exit code: 0 done, 1 failed, 2 bad usage. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...after] = argv;
  if ((GROUPS as readonly string[]).includes(first ?? "")) {
    const sub = after[0];
    const known = sub !== undefined && Object.hasOwn(COMMANDS, `${first} ${sub}`);
    if (!known) return groupHelp(first!, sub);
  }
  // `triad keys <action>`, `triad schedule <action>`: commands of two words.
  const [name, rest] = (GROUPS as readonly string[]).includes(first ?? "")
    ? [`${first} ${after[0]}`, after.slice(1)]
    : [first, after];
  if (name === undefined || HELP.has(name)) {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined; // not "constructor"
  if (command === undefined) {
    process.stderr.write(`triad: unknown command "${name}" [ERR_USAGE]\n\n${USAGE}`);
    return 2;
  }
  let options: ParsedOptions;
  try {
    options = parseOptions(command.spec, rest, process.env, CONFIG_KEYS);
  } catch (err) {
    if (err instanceof UsageError) return usageError(name, err, command.spec);
    throw err;
  }
  if (options.help) {
    process.stdout.write(helpText(command.spec));
    return 0;
  }
  try {
    return await command.run(options);
  } catch (err) {
    if (err instanceof UsageError) return usageError(name, err, command.spec);
    const code = isTriadError(err) ? ` [${err.code}]` : "";
    process.stderr.write(`triad ${name}: ${(err as Error).message}${code}\n`);
    return 1;
  }
}
