// The seed's "Integration Example", in TypeScript: all three tiers in one process, no transport
// configured — the agents find each other through the in-process router.
// Run: npx tsx examples/integration.ts   (uses the embedded store; set REDIS_URL for a real Redis)
import {
  type A2AConfig,
  CoordinatorAgent,
  DistributorAgent,
  RedisClient,
  type RedisConfig,
  Task,
  WorkerAgent,
} from "triad";

export async function main(redisUrl = process.env.REDIS_URL ?? "memory://") {
  // Initialize
  const redisConfig: RedisConfig = { url: redisUrl };
  const redisClient = new RedisClient(redisConfig);
  await redisClient.connect();

  // Create agents
  const coordinator = new CoordinatorAgent({
    agentId: "coordinator-1",
    redis: redisConfig,
    a2a: { agentId: "coordinator-1" } satisfies Partial<A2AConfig>,
  });
  await coordinator.initialize();

  const distributor = new DistributorAgent({
    agentId: "distributor-1",
    coordinatorId: "coordinator-1",
    redis: redisConfig,
    a2a: { agentId: "distributor-1" },
  });
  await distributor.initialize();

  const worker = new WorkerAgent({
    agentId: "worker-1",
    distributorId: "distributor-1",
    a2a: { agentId: "worker-1" },
  });
  await worker.initialize();

  // Workflow
  const task = new Task({ taskId: "task-1", taskType: "compute", payload: {} });
  await coordinator.assignTaskToDistributor(task, "distributor-1");
  await distributor.assignTaskToWorker(task, "worker-1");
  const result = await worker.executeTask(task);
  const committed = await coordinator.waitForTask("task-1", 10_000);

  // Cleanup
  await coordinator.cleanup();
  await distributor.cleanup();
  await worker.cleanup();
  await redisClient.disconnect();
  return { result, committed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { result, committed } = await main();
  console.log("worker.executeTask:", JSON.stringify(result));
  console.log("committed by the cluster:", JSON.stringify(committed));
}
