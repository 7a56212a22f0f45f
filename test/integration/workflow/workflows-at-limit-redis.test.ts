import { workflowsAtLimit } from "./workflows-at-limit.js";

// A chain of 1,000 and a fan-out of 10,000 on one Redis (workflows-at-limit.ts).
workflowsAtLimit("redis");
