/**
 * A host model with exactly the surface anywidget's front-end module spec (AFM) promises, and
 * nothing else: what marimo, for one, gives an ESM.
 *
 * - `get`, `set` (fires `change:<name>` at once), `save_changes` (sends the names set since the
 *   last save as one trait update), `send` (a custom message), `widget_manager.get_model`;
 * - a kernel update fires `change:<name>` for each name whose value changed (by JSON value);
 * - `on`/`off` of `change:<name>` and `msg:custom` only. A change callback receives only the new
 *   value (marimo's `cb(value)`; the AFM spec promises it no argument at all), never the model.
 *   Any other event name (Backbone's `all`, `comm:close`, a made-up one) is accepted and never
 *   fired, as in marimo, and is recorded in `unsupported`.
 *
 * Like a kernel host, the fake answers the runtime's connection probe (`{type: "ping"}`) with
 * `{type: "pong"}` unless made with `answer: false`; probes are counted in `pings`, not kept in
 * `custom`. Each model gets a unique `_nb_key`, as the kernel gives every state model.
 *
 * No Backbone, no `attributes`, `set_state`, `state_change`, `trigger` or `model_id`: the model is
 * a frozen object of closures, so a runtime cannot reach anything else through it. Sources:
 * anywidget's `docs/src/pages/en/afm.md` and `packages/types/index.ts`; marimo's
 * `frontend/src/plugins/impl/anywidget/model.ts`.
 */

type Callback = (...args: never[]) => void;

export interface AfmModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(event: string, callback: Callback): void;
  off(event?: string | null, callback?: Callback | null): void;
  readonly widget_manager: { get_model(id: string): Promise<AfmModel> };
}

export interface AfmHost {
  id: string;
  model: AfmModel;
  /** Custom messages the browser sent (`model.send` contents), probes aside. */
  custom: Record<string, unknown>[];
  /** How many connection probes the browser sent. */
  pings: number;
  /** Trait updates the browser sent (`save_changes`), when non-empty. */
  syncs: Record<string, unknown>[];
  /** Event names something asked to listen to that an AFM host never fires. */
  unsupported: string[];
  /** How many listeners are registered now. */
  listeners(): number;
  /** Deliver a kernel trait update: each changed name fires `change:<name>` with its value. */
  update(state: Record<string, unknown>): Promise<void>;
  /** Deliver a kernel custom message to `msg:custom` listeners. */
  message(content: unknown): Promise<void>;
}

const hosts = new Map<string, AfmModel>();
let counter = 0;

function isAfmEvent(event: string): boolean {
  return event === "msg:custom" || (event.startsWith("change:") && event.length > "change:".length);
}

export function afmModel(state: Record<string, unknown>, id = `afm${++counter}`, options: { answer?: boolean } = {}): AfmHost {
  let data: Record<string, unknown> = { _nb_key: id, ...state };
  const dirty = new Set<string>();
  const listeners = new Map<string, Set<Callback>>();
  const custom: Record<string, unknown>[] = [];
  const syncs: Record<string, unknown>[] = [];
  const unsupported: string[] = [];

  const emit = (event: string, ...args: unknown[]) => {
    for (const callback of [...(listeners.get(event) ?? [])]) (callback as (...a: unknown[]) => void)(...args);
  };
  const assign = (name: string, value: unknown) => {
    data = { ...data, [name]: value };
    emit(`change:${name}`, value);
  };

  const model: AfmModel = Object.freeze({
    get: (name: string) => data[name],
    set: (name: string, value: unknown) => {
      dirty.add(name);
      assign(name, value);
    },
    save_changes: () => {
      if (dirty.size === 0) return;
      syncs.push(Object.fromEntries([...dirty].map((name) => [name, data[name]])));
      dirty.clear();
    },
    send: (content: unknown) => {
      if ((content as { type?: unknown } | null)?.type === "ping") {
        host.pings += 1;
        if (options.answer !== false) queueMicrotask(() => emit("msg:custom", { type: "pong" }, []));
        return;
      }
      custom.push(content as Record<string, unknown>);
    },
    on: (event: string, callback: Callback) => {
      if (!isAfmEvent(event)) {
        unsupported.push(event);
        return;
      }
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(callback);
    },
    off: (event?: string | null, callback?: Callback | null) => {
      if (event == null) {
        if (callback == null) listeners.clear();
        else for (const set of listeners.values()) set.delete(callback);
      } else if (callback == null) listeners.delete(event);
      else listeners.get(event)?.delete(callback);
    },
    widget_manager: Object.freeze({
      get_model: async (ref: string) => {
        const found = hosts.get(ref);
        if (!found) throw new Error(`no model ${ref}`);
        return found;
      },
    }),
  });
  hosts.set(id, model);

  const host: AfmHost = {
    id,
    model,
    custom,
    pings: 0,
    syncs,
    unsupported,
    listeners: () => [...listeners.values()].reduce((n, set) => n + set.size, 0),
    update: async (changes) => {
      for (const [name, value] of Object.entries(changes)) {
        if (JSON.stringify(data[name]) !== JSON.stringify(value)) assign(name, value);
      }
    },
    message: async (content) => emit("msg:custom", content, []),
  };
  return host;
}
