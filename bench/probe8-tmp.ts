import { BenchRedis } from "./lib/redis.js";
import { InProcessTriad, runEcho } from "./triad-inprocess.js";

const redis = await BenchRedis.start();
const out: string[] = [];
for (let r = 0; r < 2; r++) {
  const tr = await InProcessTriad.start({ url: redis.url, busyPollUs: Number(process.env.BP ?? 250) });
  await runEcho(tr.coordinator, 3000, "one", { idPrefix: `w${r}` });
  const f = await runEcho(tr.coordinator, 20000, "one", { idPrefix: `m${r}` });
  out.push(`${Math.round(f.perSecond)}/s cpu ${Math.round(f.cpuUs)}`);
  await tr.stop();
  await redis.flush();
}
console.log(out.join("  "));
await redis.stop();
