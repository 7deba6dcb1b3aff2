/**
 * An abort signal that fires with the reason of whichever of `sources` fires first, or of
 * `abort(reason)`; `release()` detaches it from the sources once the attempt is over.
 *
 * AbortSignal.any does the same, but it keeps every derived signal as a weak dependent of
 * its sources and walks them when composing signals of signals: with two per job it was
 * the single largest cost of the worker's per-job overhead (about 7 % of its CPU time).
 */
export class LinkedSignal {
  private readonly controller = new AbortController();
  private readonly listeners: Array<[AbortSignal, () => void]> = [];

  constructor(...sources: AbortSignal[]) {
    for (const source of sources) {
      if (source.aborted) {
        this.abort(source.reason);
        break;
      }
      const follow = () => this.abort(source.reason);
      source.addEventListener('abort', follow, { once: true });
      this.listeners.push([source, follow]);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  release(): void {
    for (const [source, follow] of this.listeners) source.removeEventListener('abort', follow);
    this.listeners.length = 0;
  }
}
