/**
 * The model object every nbstate view receives (default view or a user's `_nb_view` ESM).
 *
 * It is anywidget's model API (`get`, `set`, `save_changes`, `on`, `off`, `send`,
 * `widget_manager`) plus `fire(handler, payload)`. Values and their `change:<var>` events come
 * from the state's binding (kernel updates and patches alike); vars are set optimistically and
 * saved as nbstate `set` messages on the same ordered path as events, never as trait syncs.
 * `msg:custom` listeners get only custom messages that are not nbstate's. Any other event name
 * is passed to the host model as it is. Each facade remembers the listeners its view added, so
 * `dispose()` removes exactly those.
 */

import type { ModelBinding } from "./binding";
import type { Listener, NbModel } from "../view/types";
import type { Callback, WidgetManager } from "./widget";

interface Registration {
  event: string;
  callback: Listener;
  host: boolean;
}

/** Events the binding serves; the rest belong to the host model. */
function servedByBinding(event: string): boolean {
  return event.startsWith("change:") || event === "msg:custom" || event.startsWith("nbstate:");
}

export class ModelFacade implements NbModel {
  private registrations: Registration[] = [];

  constructor(private readonly binding: ModelBinding) {}

  get widget_manager(): WidgetManager | undefined {
    return this.binding.hostModel.widget_manager;
  }

  get(name: string): unknown {
    return this.binding.client.value(name);
  }

  set(name: string, value: unknown): void {
    this.binding.client.set(name, value);
  }

  save_changes(): void {
    this.binding.client.save();
  }

  fire(handler: string, payload: Record<string, unknown> = {}): Promise<void> {
    return this.binding.client.fire(handler, payload);
  }

  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void {
    this.binding.hostModel.send?.(content, callbacks, buffers);
  }

  on(event: string, callback: Listener): void {
    const host = !servedByBinding(event);
    this.registrations.push({ event, callback, host });
    if (host) this.binding.hostModel.on(event, callback as Callback);
    else this.binding.on(event, callback);
  }

  off(event?: string | null, callback?: Listener | null): void {
    this.registrations = this.registrations.filter((r) => {
      const match = (event == null || r.event === event) && (callback == null || r.callback === callback);
      if (match) {
        if (r.host) this.binding.hostModel.off(r.event, r.callback as Callback);
        else this.binding.off(r.event, r.callback);
      }
      return !match;
    });
  }

  /** Remove every listener this facade added. */
  dispose(): void {
    this.off();
  }
}
