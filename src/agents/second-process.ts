/** How often a second process under one agent id is warned of, at most. */
const WARN_EVERY_MS = 10_000;

/**
 * The warnings of a second process running under an agent's id (a copied --id): said once, then
 * at most every WARN_EVERY_MS per id, since it repeats with every heartbeat it sends.
 */
export class SecondProcessWarnings {
  private readonly warnedAt = new Map<string, number>();

  /** Whether a warning about `id` is due now (and counts as said). */
  due(id: string): boolean {
    const now = performance.now();
    if (now - (this.warnedAt.get(id) ?? Number.NEGATIVE_INFINITY) < WARN_EVERY_MS) return false;
    this.warnedAt.set(id, now);
    return true;
  }
}
