/**
 * Keeps this process's event loop polling, instead of sleeping in the kernel, for the short
 * while a reply it awaits is expected — what Linux's SO_BUSY_POLL does for a socket, done here
 * in the event loop (a chain of setImmediate: each turn still runs timers and I/O, it only never
 * blocks in epoll_wait).
 *
 * Why: on a virtual machine, a process that sleeps while its request is out pays a wake-up when
 * the reply comes (an interrupt and a re-entry into the guest; tens of µs), on top of the
 * round trip itself. A caller that awaits one Redis reply after another pays it every time:
 * measured here, a PING answered in 120 µs with the loop asleep and in 78 µs with it polling.
 *
 * The cost is CPU: while it polls, the process uses its core fully. So it polls only while a
 * reply is awaited, and only for its client's budget since the last wait began or the last
 * reply came; after that it sleeps as usual until the next request. Each client learns on its
 * own: when most of its waits outlast the budget (a far-away server), its waits stop asking for
 * polling for PAUSE_MS, then try again.
 */
export class BusyPoll {
  private waiting = 0;
  /** performance.now() after which polling gives up (unless a wait begins or a reply comes). */
  private until = 0;
  private polling = false;
  private lastTick = Number.NEGATIVE_INFINITY;
  /** Chains started so far; only the newest one turns. */
  private chains = 0;
  /** Clients with waits open. */
  private readonly open = new Set<PolledWaits>();
  /** Turns of the event loop spent polling, since the start (for tests and diagnostics). */
  turns = 0;

  constructor(readonly now: () => number = () => performance.now()) {}

  /** A handle for one client: each wait it opens asks for polling for up to `budgetMs` (0: never). */
  client(budgetMs: number): PolledWaits {
    return new PolledWaits(this, budgetMs);
  }

  /** Whether the loop is being kept polling now. */
  get active(): boolean {
    return this.polling;
  }

  /** @internal A wait of `waits` began. */
  began(waits: PolledWaits): void {
    this.waiting++;
    if (waits.open === 1) this.open.add(waits);
    const now = this.now();
    if (waits.budgetMs <= 0 || now < waits.pausedUntil) return;
    if (now + waits.budgetMs > this.until) this.until = now + waits.budgetMs;
    // A chain whose last turn is long past was lost (fake timers in a test, say): start anew.
    if (!this.polling || now - this.lastTick > STALLED_MS) this.start(now);
  }

  /** @internal A wait of `waits` ended: its reply came, or it was given up. */
  ended(waits: PolledWaits): void {
    this.waiting--;
    if (waits.open === 0) this.open.delete(waits);
    if (!this.polling || waits.budgetMs <= 0) return;
    const now = this.now();
    waits.outcome(true, now);
    if (now + waits.budgetMs > this.until) this.until = now + waits.budgetMs;
  }

  // The immediates stay ref'd: an unref'd one does not keep the loop from blocking in epoll
  // (Node polls without sleeping only while ref'd immediates are due), which is the whole point.
  // The chain ends by itself within the budget, so it never holds a process open for long.
  private start(now: number): void {
    this.polling = true;
    this.lastTick = now;
    // A new chain supersedes one still pending (held back, not lost): one turn per turn.
    const chain = ++this.chains;
    const tick = (): void => {
      if (chain !== this.chains) return;
      const at = this.now();
      this.lastTick = at;
      if (this.waiting <= 0) {
        this.polling = false;
        return;
      }
      if (at > this.until) {
        this.polling = false;
        for (const waits of this.open) waits.outcome(false, at);
        return;
      }
      this.turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
  }
}

/** One client's waits (a Redis connection, an HTTP peer pool), and how polling served them. */
export class PolledWaits {
  open = 0;
  pausedUntil = Number.NEGATIVE_INFINITY;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly poll: BusyPoll,
    readonly budgetMs: number,
  ) {}

  /** A reply is awaited from now on. */
  begin(): void {
    this.open++;
    this.poll.began(this);
  }

  /** The reply came (or the wait was given up). */
  end(): void {
    this.open--;
    this.poll.ended(this);
  }

  /** Whether this client's waits are not polled for now, because they kept outlasting the budget. */
  get paused(): boolean {
    return this.poll.now() < this.pausedUntil;
  }

  /** @internal A polled wait's outcome: its reply came in time, or the budget ran out first. */
  outcome(hit: boolean, now: number): void {
    if (hit) this.hits++;
    else this.misses++;
    if (this.hits + this.misses < WINDOW) return;
    if (this.misses * 2 > WINDOW) this.pausedUntil = now + PAUSE_MS;
    this.hits = 0;
    this.misses = 0;
  }
}

/** What a client tells the poller: a reply is awaited, a reply came. */
export type ReplyWaits = { begin(): void; end(): void };

/** Outcomes looked at together: more than half of them misses, and the client pauses. */
const WINDOW = 64;
/** How long a client's waits go unpolled after a window of mostly misses. */
const PAUSE_MS = 1000;
/** A chain that has not turned for this long is considered lost. */
const STALLED_MS = 50;

/** The one poller of this process: there is one event loop to keep awake. */
export const busyPoll = new BusyPoll();

/** A store client's waits on the process's poller, for a budget in µs; none when it is 0 (off). */
export function replyWaitsFor(budgetUs: number): ReplyWaits | undefined {
  return budgetUs > 0 ? busyPoll.client(budgetUs / 1000) : undefined;
}
