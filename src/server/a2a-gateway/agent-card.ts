import { A2A_PROTOCOL_VERSION, type AgentCard, type AgentSkill } from "@a2a-js/sdk";
import { BUILTIN_TASK_TYPES } from "./cluster-task-types.js";
import { INPUT_SHAPE } from "./task-input.js";

export type AgentCardInput = {
  /** Where the JSON-RPC endpoint is reached, absolute. */
  jsonRpcUrl: string;
  coordinatorId: string;
  version: string;
  taskTypes: string[];
  /** The JSON-RPC endpoint wants `Authorization: Bearer <TRIAD_API_TOKEN>`. */
  bearer: boolean;
  /** Plain-text messages run as tasks of this type (--a2a-text-type), if any. */
  textTaskType?: string | undefined;
  /** Not every live worker has said what it runs yet: the skills may be missing some. */
  partial: boolean;
};

const JSON_MODE = "application/json";
const TEXT_MODE = "text/plain";
const BEARER_SCHEME = "bearer";

const BUILTIN: Record<string, { description: string; example: string }> = {
  compute: {
    description: "Arithmetic over a list of numbers: sum, mean, min, max or product. Result: { result }.",
    example: '{"task_type":"compute","payload":{"operation":"mean","values":[2,4,9]}}',
  },
  data_processing: {
    description:
      "Runs payload.operations (filter, map, sort, dedupe, group and aggregate, limit) over payload.data. Result: { data, count }.",
    example:
      '{"task_type":"data_processing","payload":{"data":[{"n":3},{"n":1}],"operations":[{"op":"sort","field":"n"}]}}',
  },
  echo: {
    description: "Returns its payload as the result.",
    example: '{"task_type":"echo","payload":{"hello":"world"}}',
  },
  generic: {
    description: "The seed's generic task: returns its payload as the result.",
    example: '{"task_type":"generic","payload":{"any":"thing"}}',
  },
  sleep: {
    description: "Waits payload.ms milliseconds, then completes (for tests and demos).",
    example: '{"task_type":"sleep","payload":{"ms":500}}',
  },
};

function skill(taskType: string, textTaskType: string | undefined): AgentSkill {
  const modes = taskType === textTaskType ? [JSON_MODE, TEXT_MODE] : [JSON_MODE];
  const builtin = Object.hasOwn(BUILTIN, taskType) ? BUILTIN[taskType] : undefined; // "constructor" is no built-in
  return {
    id: taskType,
    name: taskType,
    description:
      builtin?.description ?? `Runs "${taskType}" tasks with the handler the workers registered for it.`,
    tags: ["triad", BUILTIN_TASK_TYPES.includes(taskType) ? "built-in" : "registered"],
    examples: [builtin?.example ?? `{"task_type":"${taskType}","payload":{}}`],
    inputModes: modes,
    outputModes: [JSON_MODE],
    securityRequirements: [],
  };
}

function description(input: AgentCardInput): string {
  const text = input.textTaskType
    ? ` A message of plain text runs as a "${input.textTaskType}" task with payload {"text": "<the text parts, joined>"}.`
    : "";
  const partial = input.partial
    ? " The skills listed may be incomplete: not every worker has reported what it runs yet."
    : "";
  return (
    `Triad coordinator ${input.coordinatorId}: hands each task to a distributor, whose workers run it. ` +
    `Send a message with ${INPUT_SHAPE}; the task's result comes back as a data-part artifact.${text}${partial}`
  );
}

/** The coordinator's agent card: one JSON-RPC interface, one skill per task type the cluster runs. */
export function buildAgentCard(input: AgentCardInput): AgentCard {
  return {
    name: "Triad",
    description: description(input),
    supportedInterfaces: [
      {
        url: input.jsonRpcUrl,
        protocolBinding: "JSONRPC",
        protocolVersion: A2A_PROTOCOL_VERSION,
        tenant: "",
      },
    ],
    provider: undefined,
    version: input.version,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: input.bearer
      ? {
          [BEARER_SCHEME]: {
            scheme: {
              $case: "httpAuthSecurityScheme",
              value: {
                scheme: "Bearer",
                bearerFormat: "",
                description: "The cluster's API token (TRIAD_API_TOKEN)",
              },
            },
          },
        }
      : {},
    securityRequirements: input.bearer ? [{ schemes: { [BEARER_SCHEME]: { list: [] } } }] : [],
    defaultInputModes: input.textTaskType ? [JSON_MODE, TEXT_MODE] : [JSON_MODE],
    defaultOutputModes: [JSON_MODE],
    skills: input.taskTypes.map((t) => skill(t, input.textTaskType)),
    signatures: [],
  };
}
