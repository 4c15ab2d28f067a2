// One typed event emitter for every component that announces changes, instead of a
// hand-rolled listener set in each.

/** An event map: each event's name and its listener's signature. */
export type EventMap<E> = { [K in keyof E]: (...args: never[]) => void };

/** What subscribers see of an emitter: they may listen, but not emit. */
export interface Listenable<E extends EventMap<E>> {
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void;
  off<K extends keyof E>(event: K, listener: E[K]): void;
}

export class Emitter<E extends EventMap<E>> implements Listenable<E> {
  private readonly listeners = new Map<keyof E, Set<E[keyof E]>>();

  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: E[K]): void {
    this.listeners.get(event)?.delete(listener);
  }

  /**
   * Calls the event's listeners in the order they were added. A listener added or removed
   * by another one takes effect at the next emit; a listener that throws is reported and
   * does not keep the others from hearing the event.
   */
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<E[K]>) => void)(...args);
      } catch (error) {
        console.error(`A listener of "${String(event)}" failed`, error);
      }
    }
  }

  /** Removes every listener (when the owner is disposed). */
  clear(): void {
    this.listeners.clear();
  }
}
