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

type Run = (options: ParsedOptions) => Promise<number>;
type Command = { spec: CommandSpec; load: () => Promise<Run> };

// Each command's module is loaded when it runs (see commands/specs.ts).
const COMMANDS: Record<string, Command> = {
  up: { spec: upSpec, load: async () => (await import("./commands/up.js")).up },
  coordinator: {
    spec: coordinatorSpec,
    load: async () => (await import("./commands/coordinator.js")).coordinator,
  },
  distributor: {
    spec: distributorSpec,
    load: async () => (await import("./commands/distributor.js")).distributor,
  },
  worker: { spec: workerSpec, load: async () => (await import("./commands/worker.js")).worker },
  submit: { spec: submitSpec, load: async () => (await import("./commands/submit.js")).submit },
  status: { spec: statusSpec, load: async () => (await import("./commands/status.js")).status },
  cancel: { spec: cancelSpec, load: async () => (await import("./commands/cancel.js")).cancel },
  input: { spec: inputSpec, load: async () => (await import("./commands/input.js")).input },
  "schedule add": {
    spec: scheduleAddSpec,
    load: async () => (await import("./commands/schedule.js")).scheduleAdd,
  },
  "schedule list": {
    spec: scheduleListSpec,
    load: async () => (await import("./commands/schedule.js")).scheduleList,
  },
  "schedule rm": {
    spec: scheduleRmSpec,
    load: async () => (await import("./commands/schedule.js")).scheduleRm,
  },
  "keys generate": {
    spec: keysGenerateSpec,
    load: async () => (await import("./commands/keys.js")).keysGenerate,
  },
  "keys list": { spec: keysListSpec, load: async () => (await import("./commands/keys.js")).keysList },
  "keys revoke": {
    spec: keysRevokeSpec,
    load: async () => (await import("./commands/keys.js")).keysRevoke,
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

/**
 * Runs one CLI invocation and resolves its exit code: 0 done, 1 failed, 2 bad usage.
 * `loaded`, when given, is called once the command's module has loaded, before it runs: bin/triad
 * hears SIGINT / SIGTERM itself until then (a signal while the modules load exits 0 at once),
 * and leaves them to the command from there on.
 */
export async function main(argv: string[], hooks: { loaded?: () => void } = {}): Promise<number> {
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
    const run = await command.load();
    hooks.loaded?.();
    return await run(options);
  } catch (err) {
    if (err instanceof UsageError) return usageError(name, err, command.spec);
    const code = isTriadError(err) ? ` [${err.code}]` : "";
    process.stderr.write(`triad ${name}: ${(err as Error).message}${code}\n`);
    return 1;
  }
}
