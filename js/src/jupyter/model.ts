/**
 * The model object every nbstate view receives (default view or a user's `_nb_view` ESM).
 *
 * It is anywidget's model API (`get`, `set`, `save_changes`, `on`, `off`, `send`,
 * `widget_manager`) plus `fire(handler, payload)`. Vars are set optimistically and saved as
 * nbstate `set` messages on the same ordered path as events, never as ipywidgets trait syncs.
 * Each facade registers its listeners on the widget model under a context of its own, so
 * `dispose()` removes exactly the listeners its view added.
 */

import { isIncoming } from "../protocol";
import type { ModelBinding } from "./binding";
import type { Listener, NbModel } from "../view/types";
import type { Callback, WidgetManager } from "./widget";

interface Registration {
  event: string;
  callback: Listener;
  wrapped: Callback;
}

export class ModelFacade implements NbModel {
  private registrations: Registration[] = [];

  constructor(private readonly binding: ModelBinding) {}

  get widget_manager(): WidgetManager {
    return this.binding.model.widget_manager;
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
    this.binding.model.send(content, callbacks, buffers);
  }

  on(event: string, callback: Listener): void {
    if (event.startsWith("change:")) event = `change:${this.binding.traitOf(event.slice("change:".length))}`;
    // nbstate's own messages are handled by the runtime; a view sees only the rest.
    const wrapped: Callback =
      event === "msg:custom"
        ? (((content: unknown, buffers: unknown) => {
            if (!isIncoming(content)) (callback as (c: unknown, b: unknown) => void)(content, buffers);
          }) as Callback)
        : (callback as Callback);
    this.registrations.push({ event, callback, wrapped });
    this.binding.model.on(event, wrapped, this);
  }

  off(event?: string | null, callback?: Listener | null): void {
    if (event?.startsWith("change:")) event = `change:${this.binding.traitOf(event.slice("change:".length))}`;
    this.registrations = this.registrations.filter((r) => {
      const match = (event == null || r.event === event) && (callback == null || r.callback === callback);
      if (match) this.binding.model.off(r.event, r.wrapped, this);
      return !match;
    });
  }

  /** Remove every listener this facade added. */
  dispose(): void {
    this.off();
  }
}
