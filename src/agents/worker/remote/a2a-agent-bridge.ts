import type { Logger } from "../../../core/logger.js";
import type { TaskHandler } from "../task-runner.js";
import { A2AAgentHandler } from "./a2a-agent-handler.js";
import { RemoteAgent, type RemoteAgentInfo, type RemoteAgentOptions } from "./remote-agent.js";

export type A2AAgentBridgeOptions = Omit<RemoteAgentOptions, "url"> & {
  /** Called with each skill of an agent once its card is read: the worker registers it. */
  register: (taskType: string, handler: TaskHandler) => void;
  logger?: Logger | undefined;
};

/**
 * `triad worker --a2a-agent URL…`: every skill of every agent's card becomes a task type of the
 * worker. A card that cannot be read yet is read again in the background (the worker runs
 * meanwhile, with the task types it has); its skills are registered when it is.
 */
export class A2AAgentBridge {
  readonly agents: RemoteAgent[];

  constructor(
    urls: readonly string[],
    private readonly options: A2AAgentBridgeOptions,
  ) {
    this.agents = urls.map((url) => new RemoteAgent({ ...options, url }));
  }

  /** Starts reading the cards; resolves when each has been read, or `waitMs` has passed. */
  async start(waitMs = 5000): Promise<void> {
    const read = this.agents.map((agent) =>
      agent.connect().then(
        ({ card }) => {
          for (const skill of card.skills) {
            this.options.register(skill.id, new A2AAgentHandler(agent.url, { agent, skill: skill.id }));
          }
        },
        () => {}, // closed before it could be read
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(read),
      new Promise((r) => {
        timer = setTimeout(r, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The agents whose cards have been read: name, URL and skills (the worker's heartbeat carries them). */
  info(): RemoteAgentInfo[] {
    return this.agents.flatMap((a) => (a.info ? [a.info] : []));
  }

  close(): void {
    for (const agent of this.agents) agent.close();
  }
}
