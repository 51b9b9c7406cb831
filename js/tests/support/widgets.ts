/**
 * A real ipywidgets `WidgetModel` (from `@jupyter-widgets/base`, the code JupyterLab and Voila
 * run) on a fake comm, plus anywidget's model proxy, so the runtime is tested against what those
 * hosts actually do with it: Backbone change events, `save_changes` and the update chain.
 *
 * Deliveries are handled one after another, each after the previous one finished, as
 * JupyterLab's kernel connection does (`_msgChain` in `@jupyterlab/services`: a trait update is
 * deserialised on the model's `state_change` chain, and the next message waits for it).
 *
 * Like a kernel host, the fake answers the runtime's connection probe (`{type: "ping"}`) with
 * `{type: "pong"}` unless made with `answer: false`; probes are kept out of `custom`.
 */

import type { AnyModel } from "../../src/jupyter/widget";

// Lumino (imported by @jupyter-widgets/base) needs DragEvent, which jsdom lacks.
(globalThis as { DragEvent?: unknown }).DragEvent ??= class extends MouseEvent {};
const { WidgetModel } = await import("@jupyter-widgets/base");

/** The Backbone model as the fakes use it (AFM members and what the fake itself needs). */
export type BackboneModel = AnyModel & {
  model_id: string;
  attributes: Record<string, unknown>;
  widget_manager: { get_model(id: string): Promise<BackboneModel | undefined> };
};

export interface Kernel {
  model: BackboneModel;
  /** Custom messages the browser sent (the `content` of `method: "custom"`), probes aside. */
  custom: Record<string, unknown>[];
  /** Trait syncs the browser sent (`method: "update"` states): echoes, when non-empty. */
  syncs: Record<string, unknown>[];
  /** How many connection probes the browser sent over this model. */
  pings: number;
  /** Deliver a kernel trait update, as the comm would; resolves once it is applied. */
  update(state: Record<string, unknown>): Promise<unknown>;
  /** Deliver a kernel custom message (`msg:custom`), as the comm would. */
  message(content: unknown): Promise<unknown>;
}

const models = new Map<string, BackboneModel>();

export const manager = {
  callbacks: () => ({}),
  get_model: async (id: string) => models.get(id),
};

/** Each page (widget manager) delivers on one chain, as one kernel connection does. */
let chain: Promise<unknown> = Promise.resolve();
let counter = 0;

export function kernelModel(state: Record<string, unknown>, id = `m${++counter}`, options: { answer?: boolean } = {}): Kernel {
  const custom: Record<string, unknown>[] = [];
  const syncs: Record<string, unknown>[] = [];
  let onMsg: ((msg: unknown) => Promise<unknown>) | undefined;
  const deliver = (data: unknown): Promise<unknown> => {
    const run = chain.then(() => (onMsg as (msg: unknown) => Promise<unknown>)({ content: { data }, buffers: [] }));
    chain = run.catch(() => {});
    return run;
  };
  const kernel: Kernel = {
    model: undefined as unknown as BackboneModel,
    custom,
    syncs,
    pings: 0,
    update: (s) => deliver({ method: "update", state: s, buffer_paths: [] }),
    message: (content) => deliver({ method: "custom", content }),
  };
  const comm = {
    comm_id: id,
    target_name: "jupyter.widget",
    send(data: { method: string; content?: Record<string, unknown>; state?: Record<string, unknown> }) {
      if (data.method === "custom" && data.content?.type === "ping") {
        kernel.pings += 1;
        if (options.answer !== false) void kernel.message({ type: "pong" });
      } else if (data.method === "custom" && data.content) custom.push(data.content);
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
  const model = new WidgetModel({ _nb_key: id, ...state } as never, { model_id: id, comm, widget_manager: manager } as never);
  kernel.model = model as unknown as BackboneModel;
  models.set(id, kernel.model);
  return kernel;
}

/** anywidget 0.11's `modelProxy`: bound methods, listeners registered under `context`. */
export function anywidgetProxy(model: BackboneModel, context: object = {}): AnyModel {
  const m = model as unknown as {
    get(n: string): unknown;
    set(n: string, v: unknown): void;
    save_changes(): void;
    send(...a: unknown[]): void;
    on(n: string, cb: unknown, ctx: unknown): void;
    off(n: unknown, cb: unknown, ctx: unknown): void;
  };
  return {
    get: m.get.bind(model),
    set: m.set.bind(model),
    save_changes: m.save_changes.bind(model),
    send: m.send.bind(model),
    on: (name, callback) => m.on(name, callback, context),
    off: (name, callback) => m.off(name, callback, context),
    widget_manager: model.widget_manager,
  };
}

/** Let queued microtasks and promise chains settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
