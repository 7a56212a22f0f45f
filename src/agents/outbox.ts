/**
 * What one agent has to tell each of its peers, sent in batches. A peer that has had nothing
 * from us for `lingerMs` gets the first item at once (in the same tick's batch); after that,
 * at most one batch per `lingerMs` — so a lone message never waits, and a busy stream turns
 * into a few large messages instead of one per task (each message is signed, verified and
 * parsed: per-message costs, paid per batch). One timer per peer at most, never one per item.
 */
export class Outbox<T> {
  private readonly peers = new Map<string, PeerQueue<T>>();
  private closed = false;

  constructor(
    private readonly send: (recipient: string, items: T[]) => void,
    private readonly options: { lingerMs: number; maxBatch: number },
  ) {}

  push(recipient: string, item: T): void {
    if (this.closed) return;
    let peer = this.peers.get(recipient);
    if (peer === undefined) {
      peer = { items: [], lastSent: Number.NEGATIVE_INFINITY, timer: undefined, immediate: undefined };
      this.peers.set(recipient, peer);
    }
    peer.items.push(item);
    if (peer.items.length >= this.options.maxBatch) {
      this.flush(recipient, peer);
      return;
    }
    if (peer.timer !== undefined || peer.immediate !== undefined) return;
    const wait = peer.lastSent + this.options.lingerMs - performance.now();
    if (wait <= 0) peer.immediate = setImmediate(() => this.flush(recipient, peer));
    else peer.timer = setTimeout(() => this.flush(recipient, peer), Math.ceil(wait));
  }

  /** Items waiting for `recipient` (or for everyone). */
  pending(recipient?: string): number {
    if (recipient !== undefined) return this.peers.get(recipient)?.items.length ?? 0;
    let n = 0;
    for (const peer of this.peers.values()) n += peer.items.length;
    return n;
  }

  /** Takes back what waits for `recipient` without sending it. */
  take(recipient: string): T[] {
    const peer = this.peers.get(recipient);
    if (peer === undefined) return [];
    this.cancel(peer);
    this.peers.delete(recipient);
    return peer.items;
  }

  /** Sends everything waiting now. */
  flushAll(): void {
    for (const [recipient, peer] of this.peers) this.flush(recipient, peer);
  }

  /** Drops what waits and stops the timers. */
  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) this.cancel(peer);
    this.peers.clear();
  }

  private flush(recipient: string, peer: PeerQueue<T>): void {
    this.cancel(peer);
    if (peer.items.length === 0) {
      // Idle for a whole linger: forget the peer, so a churn of recipients cannot grow the map.
      if (performance.now() - peer.lastSent >= this.options.lingerMs) this.peers.delete(recipient);
      return;
    }
    peer.lastSent = performance.now();
    while (peer.items.length > 0) this.send(recipient, peer.items.splice(0, this.options.maxBatch));
    if (this.options.lingerMs <= 0) {
      this.peers.delete(recipient); // no pacing: the next item starts a new entry and goes at once
      return;
    }
    // Items pushed within one linger from now wait for this timer; if none came, the entry goes (above).
    peer.timer = setTimeout(() => this.flush(recipient, peer), this.options.lingerMs);
  }

  private cancel(peer: PeerQueue<T>): void {
    if (peer.timer !== undefined) clearTimeout(peer.timer);
    if (peer.immediate !== undefined) clearImmediate(peer.immediate);
    peer.timer = undefined;
    peer.immediate = undefined;
  }
}

type PeerQueue<T> = {
  items: T[];
  lastSent: number;
  timer: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
};
