import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { TriadError } from "../errors.js";
import { shownValue } from "../option-kinds.js";

/** Every key is tried on a bad signature, so the ring stays small: current plus a few previous. */
export const MAX_KEYS = 8;

const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

type Key = { id: string; key: KeyObject };

/**
 * The HMAC-SHA256 secrets of one agent: the current key signs, every key in the ring verifies.
 * No key id travels on the wire (the message format has no room for one), so a signature is
 * checked against the current key first and then each previous key; the id of the key that
 * matched is reported so an operator can see when nobody signs with an old key any more.
 *
 * Rotation without downtime (see docs): 1) add the new secret to every receiver as a previous
 * key, 2) switch senders to it as the current key (`rotate`), 3) when `verifiedByKey` shows no
 * traffic on the old key, `retire` it everywhere.
 */
export class Keyring {
  private current: Key;
  private previous: Key[];

  constructor(current: { id: string; secret: string }, previous: { id: string; secret: string }[] = []) {
    // null was a TypeError reading its id.
    checkKeyShape("the current key", current);
    if (!Array.isArray(previous))
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `new Keyring(): previous must be an array of keys (got ${shownValue(previous)})`,
      );
    for (const [i, key] of previous.entries()) checkKeyShape(`previous[${i}]`, key);
    this.current = toKey(current.id, current.secret);
    this.previous = previous.map((k) => toKey(k.id, k.secret));
    checkIds(this.current, this.previous);
  }

  get currentId(): string {
    return this.current.id;
  }

  /** Ids of every key that verifies, the current one first. */
  ids(): string[] {
    return [this.current.id, ...this.previous.map((k) => k.id)];
  }

  /** Lowercase hex HMAC-SHA256 of `input` (UTF-8) under the current key. */
  sign(input: string): string {
    return createHmac("sha256", this.current.key).update(input, "utf8").digest("hex");
  }

  /** The id of the key that made `signature` over `input`, or null. Constant time per key. */
  verify(input: string, signature: unknown): string | null {
    if (typeof signature !== "string" || !SIGNATURE_HEX.test(signature)) return null;
    const given = Buffer.from(signature, "hex");
    if (matches(this.current.key, input, given)) return this.current.id;
    for (const k of this.previous) {
      if (matches(k.key, input, given)) return k.id;
    }
    return null;
  }

  /** Makes `secret` the signing key; the old current key keeps verifying until retired. */
  rotate(id: string, secret: string): void {
    const next = toKey(id, secret);
    const previous = [this.current, ...this.previous.filter((k) => k.id !== id)];
    checkIds(next, previous);
    this.current = next;
    this.previous = previous;
  }

  /** Adds a key that verifies but does not sign (step 1 of a rotation). */
  addPrevious(id: string, secret: string): void {
    if (this.current.id === id) throw new TriadError("ERR_INVALID_CONFIG", `key ${id} is the current key`);
    const previous = [...this.previous.filter((k) => k.id !== id), toKey(id, secret)];
    checkIds(this.current, previous);
    this.previous = previous;
  }

  /** Stops accepting a previous key. The current key cannot be retired; rotate first. */
  retire(id: string): boolean {
    if (this.current.id === id) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `key ${id} is the current signing key; rotate before retiring it`,
      );
    }
    const before = this.previous.length;
    this.previous = this.previous.filter((k) => k.id !== id);
    return this.previous.length < before;
  }
}

function checkIds(current: Key, previous: Key[]): void {
  const ids = [current.id, ...previous.map((k) => k.id)];
  if (new Set(ids).size !== ids.length) {
    throw new TriadError("ERR_INVALID_CONFIG", `key ids must be unique (got ${ids.join(", ")})`);
  }
  if (ids.length > MAX_KEYS) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `a keyring holds at most ${MAX_KEYS} keys (got ${ids.length})`,
    );
  }
}

function matches(key: KeyObject, input: string, given: Buffer): boolean {
  const expected = createHmac("sha256", key).update(input, "utf8").digest();
  // Both are 32 bytes here (the hex was checked); timingSafeEqual insists, so say it anyway.
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function toKey(id: string, secret: string): Key {
  if (typeof id !== "string" || id.length === 0) {
    throw new TriadError("ERR_INVALID_CONFIG", "a key id must be a non-empty string");
  }
  if (typeof secret !== "string" || secret.length === 0) {
    throw new TriadError("ERR_INVALID_CONFIG", `the secret of key ${id} must be a non-empty string`);
  }
  return { id, key: createSecretKey(Buffer.from(secret, "utf8")) };
}

/** A key given to the Keyring: an object `{ id, secret }` (toKey checks its fields). */
function checkKeyShape(name: string, key: unknown): void {
  if (typeof key !== "object" || key === null || Array.isArray(key))
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `new Keyring(): ${name} must be { id, secret } (got ${shownValue(key)})`,
    );
}
