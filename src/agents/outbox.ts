/**
 * What one agent has to tell each of its peers, sent in batches. A peer that has had nothing
 * from us for `lingerMs` gets the first item at once (in the same tick's batch); after that,
 * at most one batch per `lingerMs` — so a lone message never waits, and a busy stream turns
 * into a few large messages instead of one per task (each message is signed, verified and
 * parsed: per-message costs, paid per batch). One timer per peer at most, never one per item.
 *
 * A send may return a promise (the peer accepted the batch): while `maxInFlight` (default 2)
 * batches to a peer are unanswered, the next waits and grows. A peer that answers slowly because it is busy
 * thus gets fewer, larger batches — it is spared per-message work exactly when it has least
 * time for it. In process the answer is immediate, and nothing waits.
 */
export class Outbox<T> {
  private readonly peers = new Map<string, PeerQueue<T>>();
  private readonly maxInFlight: number;
  private closed = false;

  constructor(
    private readonly send: (recipient: string, items: T[]) => Promise<unknown> | undefined,
    private readonly options: {
      lingerMs: number;
      maxBatch: number;
      maxInFlight?: number;
      /** The linger while `busy()` says so (longer than lingerMs; ignored when lingerMs is 0). */
      busyLingerMs?: number;
      busy?: () => boolean;
      /** While this says so, nothing lingers: items go on the next turn (the process has CPU to spare). */
      quiet?: () => boolean;
    },
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  push(recipient: string, item: T): void {
    if (this.closed) return;
    let peer = this.peers.get(recipient);
    if (peer === undefined) {
      peer = {
        items: [],
        lastSent: Number.NEGATIVE_INFINITY,
        inFlight: 0,
        timer: undefined,
        immediate: undefined,
      };
      this.peers.set(recipient, peer);
    }
    peer.items.push(item);
    if (peer.inFlight >= this.maxInFlight) return; // sent when an answer comes
    if (peer.items.length >= this.options.maxBatch) {
      this.flush(recipient, peer);
      return;
    }
    this.schedule(recipient, peer);
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

  /** Sends everything waiting now, answered or not. */
  flushAll(): void {
    for (const [recipient, peer] of this.peers) this.flush(recipient, peer, true);
  }

  /** Drops what waits and stops the timers. */
  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) this.cancel(peer);
    this.peers.clear();
  }

  private schedule(recipient: string, peer: PeerQueue<T>): void {
    if (peer.immediate !== undefined) return;
    const wait = peer.lastSent + this.linger() - performance.now();
    if (wait > 0) {
      peer.timer ??= setTimeout(() => this.flush(recipient, peer), Math.ceil(wait));
      return;
    }
    // Due now: a timer set for later (a linger that has since ended, or the idle check) gives way.
    if (peer.timer !== undefined) clearTimeout(peer.timer);
    peer.timer = undefined;
    peer.immediate = setImmediate(() => this.flush(recipient, peer));
  }

  private flush(recipient: string, peer: PeerQueue<T>, force = false): void {
    this.cancel(peer);
    if (peer.items.length === 0) {
      // Idle for a whole linger: forget the peer, so a churn of recipients cannot grow the map.
      if (peer.inFlight === 0 && performance.now() - peer.lastSent >= this.linger()) {
        this.peers.delete(recipient);
      }
      return;
    }
    if (peer.inFlight >= this.maxInFlight && !force) return;
    peer.lastSent = performance.now();
    do {
      const batch = peer.items.splice(0, this.options.maxBatch);
      const answered = this.send(recipient, batch);
      if (answered !== undefined) {
        peer.inFlight++;
        const settle = () => this.settled(recipient, peer);
        answered.then(settle, settle);
      }
    } while (peer.items.length > 0 && (force || peer.inFlight < this.maxInFlight));
    if (this.options.lingerMs <= 0 && peer.inFlight === 0 && peer.items.length === 0) {
      this.peers.delete(recipient); // no pacing: the next item starts a new entry and goes at once
      return;
    }
    // Items pushed within one linger from now wait for this timer; if none came, the entry goes (above).
    if (peer.inFlight < this.maxInFlight) {
      peer.timer = setTimeout(() => this.flush(recipient, peer), this.linger());
    }
  }

  /** How long items wait after a send: lingerMs, or busyLingerMs while the process is busy. */
  private linger(): number {
    const { lingerMs, busyLingerMs, busy, quiet } = this.options;
    if (lingerMs > 0 && quiet?.() === true) return 0;
    if (busyLingerMs === undefined || busyLingerMs <= lingerMs || lingerMs <= 0) return lingerMs;
    return busy?.() ? busyLingerMs : lingerMs;
  }

  private settled(recipient: string, peer: PeerQueue<T>): void {
    peer.inFlight--;
    if (this.closed || this.peers.get(recipient) !== peer) return;
    if (peer.items.length > 0) {
      if (peer.items.length >= this.options.maxBatch) this.flush(recipient, peer);
      else this.schedule(recipient, peer);
    } else if (peer.timer === undefined && peer.immediate === undefined) {
      // Look again after a linger, so the idle entry is forgotten.
      peer.timer = setTimeout(() => this.flush(recipient, peer), Math.max(0, this.options.lingerMs));
    }
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
  /** Batches sent and not yet answered. */
  inFlight: number;
  timer: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
};
