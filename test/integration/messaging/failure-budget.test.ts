import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { MessageType } from "../../../src/core/messaging/types.js";
import { handMade } from "../../unit/messaging/support.js";

/**
 * Issue 21, item 10: signature checks ran unthrottled, so a flood of forged messages slowed the
 * whole process. A peer address may fail admission `burst` times (then `perSecond`); after that
 * its bodies are refused with 429 and Retry-After before they are parsed or hashed, while every
 * other peer is served as before.
 */

const clients: A2AClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

type Reply = { status: number; retryAfter: string | undefined };

/** A POST from a given local address (another peer on this host), no keep-alive, no retries. */
function postFrom(localAddress: string, url: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", localAddress, agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("a peer that floods badly signed messages", () => {
  it("is refused (429, Retry-After) before parsing once its budget is spent; another peer is still served", async () => {
    const receiver = new A2AClient({ agentId: "me", tokenSecret: "secret", router: null });
    const sender = new A2AClient({ agentId: "peer", tokenSecret: "secret", router: null });
    clients.push(receiver, sender);
    const handled: string[] = [];
    receiver.registerHandler(MessageType.EVENT, (m) => {
      handled.push(m.sender);
    });
    const { url } = await receiver.listen();
    const a2a = `${url}/a2a`;
    const logged: string[] = [];
    receiver.onRejected((e) => logged.push(e.reason));

    // Fresh, well formed, addressed right: each one costs a parse, a canonical walk and an HMAC.
    const forged = () =>
      JSON.stringify(
        handMade("not-the-secret", {
          sender: "peer",
          recipient: "me",
          payload: { pad: "x".repeat(32 * 1024) },
        }),
      );
    const replies: Reply[] = [];
    const floodStart = performance.now();
    for (let wave = 0; wave < 20; wave++) {
      replies.push(
        ...(await Promise.all(Array.from({ length: 10 }, () => postFrom("127.0.0.2", a2a, forged())))),
      );
    }
    const statuses = replies.map((r) => r.status);
    const verified = statuses.filter((s) => s === 401).length;
    const throttled = replies.filter((r) => r.status === 429);
    expect(verified + throttled.length).toBe(200);
    expect(verified).toBeGreaterThanOrEqual(20);
    // 20 at once, then 5 a second for as long as the flood lasted (longer on a loaded machine).
    const floodSeconds = (performance.now() - floodStart) / 1000;
    expect(verified).toBeLessThanOrEqual(20 + Math.ceil(5 * floodSeconds) + 1);
    expect(throttled.every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    const stats = receiver.stats();
    expect(stats.rejected.bad_signature).toBe(verified);
    expect(stats.rejected.throttled).toBe(throttled.length);
    // Counted every time, logged once per stretch of refusals (not once per body). A stretch
    // starts after the burst is spent, and each later one only after a token earned back was
    // spent on a body verified (401): at most verified - 20 + 1 stretches, however long the
    // flood took (a slow machine earns back more tokens, and has more, shorter stretches).
    const loggedThrottled = logged.filter((r) => r === "throttled").length;
    expect(loggedThrottled).toBeGreaterThanOrEqual(throttled.length > 0 ? 1 : 0);
    expect(loggedThrottled).toBeLessThanOrEqual(verified - 20 + 1);

    // The budget earns 5 a second back: before each probe below, what it earned since is spent
    // (each one verified and refused 401), so the probe meets an empty budget however slow this
    // machine is. Should it still earn one between the last refusal and the probe (a loaded
    // machine), the probe is looked at and refused for what it is: spend the budget, try again.
    let spent = verified;
    const probe = async (body: string, lookedAt: number): Promise<number> => {
      let status = -1;
      for (let tries = 0; tries < 5; tries++) {
        while ((await postFrom("127.0.0.2", a2a, forged())).status === 401) spent++;
        status = (await postFrom("127.0.0.2", a2a, body).catch(() => ({ status: 0 }))).status;
        if (status !== lookedAt) break;
      }
      return status;
    };
    // Not even parsed: a body that is not JSON is refused as throttled, not as malformed (400).
    const malformedBefore = receiver.stats().rejected.malformed;
    expect(await probe("{not json", 400)).toBe(429);
    const looked = receiver.stats().rejected.malformed - malformedBefore; // earned-back retries, if any
    expect(looked).toBeLessThan(5);
    // Nor read, when large: the connection closes under it (or the 429 gets out first), not 413.
    const big = JSON.stringify(handMade("wrong", { recipient: "me", payload: { pad: "x".repeat(1 << 20) } }));
    expect([0, 429]).toContain(await probe(big, 413));
    expect(receiver.stats().rejected.bad_signature).toBe(spent);

    // Another peer (127.0.0.1) is served as before.
    sender.setPeer("me", url);
    await sender.sendEvent("me", "ping", {});
    expect(handled).toEqual(["peer"]);
  });

  it("refuses the rest of a batch unverified once the budget runs out in the middle of it", async () => {
    const receiver = new A2AClient({
      agentId: "me",
      tokenSecret: "secret",
      router: null,
      failureBudget: { burst: 3, perSecond: 1 },
    });
    clients.push(receiver);
    const { url } = await receiver.listen();
    const batch = Array.from({ length: 50 }, () => handMade("wrong", { recipient: "me" }));
    const reply = await postFrom("127.0.0.3", `${url}/a2a`, JSON.stringify(batch));
    expect(reply.status).toBe(401); // every item refused; the first refusal names the status
    const { rejected } = receiver.stats();
    expect(rejected.bad_signature).toBe(3);
    expect(rejected.throttled).toBe(47);
    expect((await postFrom("127.0.0.3", `${url}/a2a`, JSON.stringify(batch[0]))).status).toBe(429);
  });
});
