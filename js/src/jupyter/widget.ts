/**
 * The parts of ipywidgets' `WidgetModel` (a Backbone model, `@jupyter-widgets/base` 6) and of
 * anywidget's model proxy that nbstate relies on, and how to get from the proxy to the model.
 *
 * anywidget (0.9–0.11) hands `initialize`/`render` a proxy holding only bound `get`, `set`,
 * `save_changes`, `send`, `on`/`off` (with a context of its own) and `widget_manager`. nbstate
 * needs the model itself for two public members the proxy hides: `set_state`, which shows values
 * without queueing them for the kernel, and `state_change`, the promise that orders trait
 * updates (see `binding.ts`).
 */

export type Callback = (...args: never[]) => void;

/** The Backbone event surface shared by the model and anywidget's proxy. */
export interface Events {
  on(event: string, callback: Callback, context?: unknown): void;
  off(event?: string | null, callback?: Callback | null, context?: unknown): void;
}

export interface WidgetManager {
  /** Resolves the model of a comm id (the part after `IPY_MODEL_`). */
  get_model(modelId: string): Promise<WidgetModel> | WidgetModel | undefined;
}

/** anywidget's proxy, as passed to an ESM's `initialize` and `render`. */
export interface AnyModel extends Events {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  widget_manager: WidgetManager;
}

/** ipywidgets' `WidgetModel`, the members nbstate uses. */
export interface WidgetModel extends AnyModel {
  attributes: Record<string, unknown>;
  /** Sets attributes as coming from the kernel: they are not queued for the next sync. */
  set_state(state: Record<string, unknown>): void;
  /** Chain of pending trait-update deserialisations; custom messages bypass it. */
  state_change?: Promise<unknown>;
  trigger(event: string, ...args: unknown[]): void;
  model_id?: string;
}

export function isWidgetModel(model: AnyModel): model is WidgetModel {
  const m = model as Partial<WidgetModel>;
  return typeof m.set_state === "function" && typeof m.attributes === "object";
}

const PROBE = "_nb_probe";

/**
 * The `WidgetModel` behind an anywidget proxy (or the model itself).
 *
 * Backbone passes the model as the first argument of `change:<attr>` listeners, so setting a
 * throwaway attribute through the proxy reveals it. The probe is then removed from the
 * attributes and from ipywidgets' diff of unsent changes, so it never reaches the kernel. It
 * runs once per `initialize` and per `render`, never on a hot path.
 */
export function widgetModel(model: AnyModel): WidgetModel {
  if (isWidgetModel(model)) return model;
  let found: WidgetModel | undefined;
  const grab = (m: WidgetModel) => {
    found = m;
  };
  model.on(`change:${PROBE}`, grab as Callback);
  try {
    model.set(PROBE, {});
  } finally {
    model.off(`change:${PROBE}`, grab as Callback);
  }
  if (!found) throw new Error("nbstate: could not reach the widget model behind this view");
  delete found.attributes[PROBE];
  const diff = (found as { _buffered_state_diff?: Record<string, unknown> })._buffered_state_diff;
  if (diff) delete diff[PROBE];
  return found;
}
