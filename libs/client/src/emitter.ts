/** A small typed event emitter over {@link ClientEvents}. */
import type { ClientEventName, ClientEvents, ClientListener } from './types';

/** Listeners by event name; a throwing listener does not stop the others. */
export class Emitter {
  private readonly listeners = new Map<ClientEventName, Set<(event: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends ClientEventName>(name: K, listener: ClientListener<K>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
    };
  }

  /** Calls every listener of `name`. */
  emit<K extends ClientEventName>(name: K, event: ClientEvents[K]): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        (listener as ClientListener<K>)(event);
      } catch (err) {
        if (name !== 'error') this.emit('error', { message: `listener of ${name} threw: ${String(err)}` });
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear();
  }
}
