/**
 * A real ipywidgets `WidgetModel` (from `@jupyter-widgets/base`, the code JupyterLab and Voila
 * run) on a fake comm, plus anywidget's model proxy, so the runtime is tested against the actual
 * Backbone/ipywidgets behaviour it relies on: `set_state` and `_state_lock`,
 * `_buffered_state_diff`, `save_changes`, and `state_change` ordering of trait updates.
 */

import type { WidgetModel as NbWidgetModel, AnyModel } from "../../src/jupyter/widget";

// Lumino (imported by @jupyter-widgets/base) needs DragEvent, which jsdom lacks.
(globalThis as { DragEvent?: unknown }).DragEvent ??= class extends MouseEvent {};
const { WidgetModel } = await import("@jupyter-widgets/base");

export interface Kernel {
  model: NbWidgetModel;
  /** Custom messages the browser sent (the `content` of `method: "custom"`). */
  custom: Record<string, unknown>[];
  /** Trait syncs the browser sent (`method: "update"` states): echoes, when non-empty. */
  syncs: Record<string, unknown>[];
  /** Deliver a kernel trait update, as the comm would; resolves once it is applied. */
  update(state: Record<string, unknown>): Promise<unknown>;
  /** Deliver a kernel custom message (`msg:custom`), as the comm would. */
  message(content: unknown): Promise<unknown>;
}

const models = new Map<string, NbWidgetModel>();

export const manager = {
  callbacks: () => ({}),
  get_model: async (id: string) => models.get(id),
};

let counter = 0;

export function kernelModel(state: Record<string, unknown>, id = `m${++counter}`): Kernel {
  const custom: Record<string, unknown>[] = [];
  const syncs: Record<string, unknown>[] = [];
  let onMsg: ((msg: unknown) => Promise<unknown>) | undefined;
  const comm = {
    comm_id: id,
    target_name: "jupyter.widget",
    send(data: { method: string; content?: Record<string, unknown>; state?: Record<string, unknown> }) {
      if (data.method === "custom" && data.content) custom.push(data.content);
      if (data.method === "update" && data.state) syncs.push(data.state);
      return `msg-${custom.length + syncs.length}`;
    },
    on_msg(cb: (msg: unknown) => Promise<unknown>) {
      onMsg = cb;
    },
    on_close() {},
    close() {},
    open() {
      return "";
    },
  };
  const model = new WidgetModel({ ...state } as never, { model_id: id, comm, widget_manager: manager } as never);
  const m = model as unknown as NbWidgetModel;
  models.set(id, m);
  const deliver = (data: unknown) => (onMsg as (msg: unknown) => Promise<unknown>)({ content: { data }, buffers: [] });
  return {
    model: m,
    custom,
    syncs,
    update: (s) => deliver({ method: "update", state: s, buffer_paths: [] }),
    message: (content) => deliver({ method: "custom", content }),
  };
}

/** anywidget 0.11's `modelProxy`: bound methods, listeners registered under `context`. */
export function anywidgetProxy(model: NbWidgetModel, context: object = {}): AnyModel {
  return {
    get: model.get.bind(model),
    set: model.set.bind(model),
    save_changes: model.save_changes.bind(model),
    send: model.send.bind(model),
    on: (name, callback) => model.on(name, callback, context),
    off: (name, callback) => model.off(name, callback, context),
    widget_manager: model.widget_manager,
  };
}

/** Let queued microtasks and promise chains settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
