import { describe, expect, it } from "vitest";
import { resolveStoreTarget } from "../../src/core/store/config.js";
import { RedisClient, redactUrl } from "../../src/index.js";

describe("store configuration", () => {
  it("refuses an unknown redis key, naming it and the known key it is probably a misspelling of", () => {
    // { urll: "memory://" } was ignored: the client went to the default localhost:6379.
    expect(() => resolveStoreTarget({ urll: "memory://" } as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringContaining("unknown option redis.urll (did you mean redis.url?)"),
      }),
    );
    expect(() => new RedisClient({ url: "memory://", keyprefix: "a:" } as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringContaining("redis.keyprefix (did you mean redis.keyPrefix?)"),
      }),
    );
    expect(() => resolveStoreTarget({ url: "rediss://h:1", tls: { cert: "x", kee: "y" } } as never)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining("redis.tls.kee (did you mean redis.tls.key?)"),
      }),
    );
    expect(() => resolveStoreTarget({ cluster: { rootNode: ["redis://h:1"] } } as never)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining("redis.cluster.rootNode (did you mean redis.cluster.rootNodes?)"),
      }),
    );
  });

  it("refuses a URL of another scheme, naming it", () => {
    expect(() => new RedisClient({ url: "http://localhost:6379" })).toThrow(
      /redis:\/\/, rediss:\/\/, redis\+cluster:\/\/ or memory:\/\//,
    );
    try {
      new RedisClient({ url: "http://x" });
    } catch (err) {
      expect(err).toMatchObject({ code: "ERR_INVALID_CONFIG" });
    }
  });

  it("refuses a key prefix that would break Cluster hash tags", () => {
    expect(() => new RedisClient({ url: "memory://", keyPrefix: "a{b}:" })).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringMatching(/^redis\.keyPrefix must not contain \{ or \}/),
      }),
    );
  });

  it("refuses a host or port beside a url, naming both (the url won and the host was silently ignored)", () => {
    const both = (message: string, conflicts: string[]) =>
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringContaining(message),
        details: expect.objectContaining({ option: "redis.url", conflicts }),
      });
    expect(() => new RedisClient({ url: "redis://a:6379", host: "b", port: 6380 })).toThrow(
      both("redis.url and redis.host and redis.port are both given", ["redis.host", "redis.port"]),
    );
    expect(() => new RedisClient({ url: "memory://both", host: "b" })).toThrow(
      both("redis.url and redis.host are both given", ["redis.host"]),
    );
    expect(() => resolveStoreTarget({ url: "redis+cluster://a:1,b:2", port: 7 })).toThrow(
      both("redis.url and redis.port are both given", ["redis.port"]),
    );
    expect(() => resolveStoreTarget({ cluster: { rootNodes: ["redis://a:1"] }, host: "b" })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("redis.cluster and redis.host") }),
    );
    // Either alone is as before.
    expect(resolveStoreTarget({ url: "redis://a:6379" })).toMatchObject({ url: "redis://a:6379" });
    expect(resolveStoreTarget({ host: "b", port: 6380 })).toMatchObject({ url: "redis://b:6380" });
  });

  it("refuses a url beside cluster, naming both (the cluster won and the url was silently ignored)", () => {
    const both = expect.objectContaining({
      code: "ERR_INVALID_CONFIG",
      message: expect.stringContaining("redis.url and redis.cluster are both given"),
      details: expect.objectContaining({ option: "redis.url", conflicts: ["redis.cluster"] }),
    });
    const cluster = { rootNodes: ["redis://a:1"] };
    expect(() => resolveStoreTarget({ url: "redis://b:6379", cluster })).toThrow(both);
    expect(() => resolveStoreTarget({ url: "redis+cluster://b:1,c:2", cluster })).toThrow(both);
    expect(() => new RedisClient({ url: "memory://both", cluster })).toThrow(both);
    // Each alone is as before.
    expect(resolveStoreTarget({ cluster })).toMatchObject({ kind: "cluster", rootNodes: ["redis://a:1"] });
    expect(resolveStoreTarget({ url: "redis://b:6379" })).toMatchObject({
      kind: "redis",
      url: "redis://b:6379",
    });
  });

  it("refuses a port out of range", () => {
    expect(() => new RedisClient({ host: "localhost", port: 70000 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_CONFIG" }),
    );
  });

  it("busy-polls for 250 µs by default, takes 0 to turn it off, and refuses a negative or non-number budget", () => {
    expect(resolveStoreTarget({ url: "redis://h:1" })).toMatchObject({ busyPollUs: 250 });
    expect(resolveStoreTarget({ url: "redis://h:1", busyPollUs: 0 })).toMatchObject({ busyPollUs: 0 });
    expect(resolveStoreTarget({ url: "redis+cluster://h:1", busyPollUs: 80 })).toMatchObject({
      kind: "cluster",
      busyPollUs: 80,
    });
    for (const bad of [-1, Number.NaN, "100" as unknown as number]) {
      expect(() => resolveStoreTarget({ url: "redis://h:1", busyPollUs: bad })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_CONFIG", message: expect.stringMatching(/busyPollUs/) }),
      );
    }
  });

  it("never shows a password in a URL it prints", () => {
    expect(redactUrl("redis://user:s3cret@host:6379/0")).toBe("redis://user:***@host:6379/0");
    expect(redactUrl("redis://:s3cret@host:6379")).toBe("redis://:***@host:6379");
    expect(redactUrl("redis://host:6379")).toBe("redis://host:6379");
  });

  it("reads a Redis Cluster from a redis+cluster:// URL listing its nodes, credentials and TLS included", () => {
    expect(resolveStoreTarget({ url: "redis+cluster://10.0.0.1:7000,10.0.0.2:7001" })).toMatchObject({
      kind: "cluster",
      rootNodes: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7001"],
      useTls: false,
    });
    expect(resolveStoreTarget({ url: "rediss+cluster://app:p%40ss@h1:7000,[::1]:7001" })).toMatchObject({
      kind: "cluster",
      rootNodes: ["rediss://h1:7000", "rediss://[::1]:7001"],
      username: "app",
      password: "p@ss",
      useTls: true,
    });
    expect(resolveStoreTarget({ cluster: { rootNodes: ["redis://h:1", "redis://h:2"] } })).toMatchObject({
      kind: "cluster",
      rootNodes: ["redis://h:1", "redis://h:2"],
    });
    expect(redactUrl("redis+cluster://app:secret@h1:7000,h2:7000")).toBe(
      "redis+cluster://app:***@h1:7000,h2:7000",
    );
  });

  it("refuses a cluster without nodes, with a bad node, or with a database number", () => {
    for (const config of [
      { url: "redis+cluster://" },
      { url: "redis+cluster://h1" },
      { url: "redis+cluster://h1:7000,nope" },
      { cluster: { rootNodes: [] } },
      { cluster: { rootNodes: ["http://h:1"] } },
      { url: "redis+cluster://h1:7000", db: 2 },
    ]) {
      expect(() => new RedisClient(config)).toThrow(expect.objectContaining({ code: "ERR_INVALID_CONFIG" }));
    }
  });
});
