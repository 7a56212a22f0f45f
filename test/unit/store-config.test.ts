import { describe, expect, it } from "vitest";
import { RedisClient, redactUrl } from "../../src/index.js";

describe("store configuration", () => {
  it("refuses a URL of another scheme, naming it", () => {
    expect(() => new RedisClient({ url: "http://localhost:6379" })).toThrow(
      /redis:\/\/, rediss:\/\/ or memory:\/\//,
    );
    try {
      new RedisClient({ url: "http://x" });
    } catch (err) {
      expect(err).toMatchObject({ code: "ERR_INVALID_CONFIG" });
    }
  });

  it("refuses a key prefix that would break Cluster hash tags", () => {
    expect(() => new RedisClient({ url: "memory://", keyPrefix: "a{b}:" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_CONFIG" }),
    );
  });

  it("refuses a port out of range", () => {
    expect(() => new RedisClient({ host: "localhost", port: 70000 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_CONFIG" }),
    );
  });

  it("never shows a password in a URL it prints", () => {
    expect(redactUrl("redis://user:s3cret@host:6379/0")).toBe("redis://user:***@host:6379/0");
    expect(redactUrl("redis://:s3cret@host:6379")).toBe("redis://:***@host:6379");
    expect(redactUrl("redis://host:6379")).toBe("redis://host:6379");
  });
});
