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
};

const JSON_MODE = "application/json";
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

function skill(taskType: string): AgentSkill {
  const builtin = Object.hasOwn(BUILTIN, taskType) ? BUILTIN[taskType] : undefined; // "constructor" is no built-in
  return {
    id: taskType,
    name: taskType,
    description:
      builtin?.description ?? `Runs "${taskType}" tasks with the handler the workers registered for it.`,
    tags: ["triad", BUILTIN_TASK_TYPES.includes(taskType) ? "built-in" : "registered"],
    examples: [builtin?.example ?? `{"task_type":"${taskType}","payload":{}}`],
    inputModes: [JSON_MODE],
    outputModes: [JSON_MODE],
    securityRequirements: [],
  };
}

/** The coordinator's agent card: one JSON-RPC interface, one skill per task type the cluster runs. */
export function buildAgentCard(input: AgentCardInput): AgentCard {
  return {
    name: "Triad",
    description:
      `Triad coordinator ${input.coordinatorId}: hands each task to a distributor, whose workers run it. ` +
      `Send a message with ${INPUT_SHAPE}; the task's result comes back as a data-part artifact.`,
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
    defaultInputModes: [JSON_MODE],
    defaultOutputModes: [JSON_MODE],
    skills: input.taskTypes.map(skill),
    signatures: [],
  };
}
