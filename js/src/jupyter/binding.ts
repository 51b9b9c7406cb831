/**
 * One state's `StateClient` bound to its host model: one binding per model per page, reached
 * from every proxy of that model through the model's `_nb_key` trait (anywidget hands
 * `initialize` and each `render` a proxy of their own).
 *
 * The binding keeps its own copy of what the view shows and announces every change of it as
 * `change:<var>` to the views' models, so it needs nothing of the host model beyond the AFM
 * surface (`widget.ts`):
 *
 * - A kernel trait update fires the host's `change:<trait>`; the binding reads the value with
 *   `get` and shows it (unless the browser's own unconfirmed set of that var is showing).
 * - A kernel `patch` is applied to the binding's copy and never written into the host model:
 *   the host's copy of that var is then older than the view's until the kernel sends the whole
 *   value again (the kernel keeps track; see `nbstate/jupyter/host.py`).
 * - Var changes come as patches; whole values as trait updates only after a cell, on a resync or
 *   when a class is redefined, each with `_nb_rev`, the session revision they are of. ipywidgets
 *   deserializes updates asynchronously, so one can be handled after a patch sent later: a var
 *   whose last patch applied is newer than an update's `_nb_rev` keeps what it shows.
 * - Browser sets travel only as nbstate `set` messages; the host model is never `set`, so no
 *   `save_changes` anywhere can echo a var back to the kernel as a trait update.
 *
 * Order: hosts deliver a model's custom messages in the order the kernel sent them, so the
 * binding handles each as it comes.
 *
 * Host listeners are registered through the model `listen` was given: anywidget removes the
 * listeners of an `initialize` proxy when it re-binds the module (a hot reload), and the next
 * `initialize` registers them again.
 */

import { formatError, StateClient } from "../core/client";
import { deepEqual } from "../core/json";
import { isIncoming, type ErrorInfo, type EventMessage, type IncomingMessage, type SetMessage } from "../protocol";
import { ERROR_EVENT, type Listener } from "../view/types";
import { connectionOf, type Connection } from "./connection";
import type { AnyModel, Callback } from "./widget";

/** Traits of the model itself that views may read and listen to. */
const OWN_TRAITS = ["_nb_spec", "_nb_view", "_nb_children"];

const byKey = new Map<string, WeakRef<ModelBinding>>();
const byModel = new WeakMap<object, ModelBinding>();
const forget = new FinalizationRegistry<string>((key) => {
  if (byKey.get(key)?.deref() === undefined) byKey.delete(key);
});

/** The binding of the model behind `model` (any proxy of it), created on first use. */
export function bindingFor(model: AnyModel): ModelBinding {
  const key = model.get("_nb_key");
  if (typeof key !== "string" || key === "") {
    let binding = byModel.get(model);
    if (!binding) byModel.set(model, (binding = new ModelBinding(model)));
    return binding;
  }
  let binding = byKey.get(key)?.deref();
  if (!binding) {
    binding = new ModelBinding(model);
    byKey.set(key, new WeakRef(binding));
    forget.register(binding, key);
  }
  return binding;
}

export class ModelBinding {
  readonly client: StateClient;
  readonly connection: Connection;
  /** The model values are read from and messages sent through. */
  private host: AnyModel;
  /** The model host listeners are registered on, and whether it came from `initialize`. */
  private via: { model: AnyModel; proxy: boolean } | undefined;
  /** Values shown that the host model does not hold (patch results, browser sets, reverts). */
  private shown = new Map<string, unknown>();
  private emitter = new Map<string, Set<Listener>>();
  /** Host listeners: trait → callback. */
  private watched = new Map<string, Callback>();
  /** Messages already handled: a second `initialize` (hot reload) may replay some. */
  private seen = new WeakSet<object>();

  constructor(model: AnyModel) {
    this.host = model;
    this.connection = connectionOf(model);
    this.client = new StateClient({
      store: { get: (name) => this.read(name), write: (values) => this.show(values) },
      send: (message) => this.send(message),
      onError: (info) => this.reportError(info),
    });
  }

  /** The host model behind this binding (the one it listens through, once it does). */
  get hostModel(): AnyModel {
    return this.host;
  }

  /** True once host events reach this binding. */
  get listening(): boolean {
    return this.via !== undefined;
  }

  /**
   * Handle `held` (the messages that arrived before the runtime did), then every later one,
   * listening through `model`. A model from `initialize` replaces an earlier `initialize` proxy
   * (anywidget dropped that one's listeners on re-bind); a model from `widget_manager.get_model`
   * (`proxy: false`) is the host's own and stays.
   */
  listen(model: AnyModel, held: readonly unknown[] = [], proxy = true): void {
    for (const message of held) this.receive(message);
    if (this.via && (!this.via.proxy || this.via.model === model)) return;
    this.detach();
    this.via = { model, proxy };
    this.host = model;
    model.on("msg:custom", this.onMessage as Callback);
    for (const trait of this.traitsToWatch()) this.watch(trait);
    this.connection.probe(model);
  }

  // ----------------------------------------------------------------- values

  /** The value shown for var (or own trait) `name`. */
  read(name: string): unknown {
    return this.shown.has(name) ? this.shown.get(name) : this.host.get(this.traitOf(name));
  }

  private show(values: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(values)) {
      this.shown.set(name, value);
      this.emit(`change:${name}`);
    }
  }

  private onHostChange(trait: string): void {
    if (this.connection.status !== "unknown") this.connection.answered(); // the kernel is there
    const name = this.varOf(trait);
    if (name === undefined) {
      if (trait === "_nb_spec") this.rewatch();
      this.emit(`change:${trait}`);
      return;
    }
    const rev = this.host.get("_nb_rev");
    if (typeof rev === "number" && this.client.patchedAfter(name, rev)) return; // older than shown
    const value = this.host.get(trait);
    if (this.client.isLocal(name)) {
      this.client.kernelChanged(name, value);
      return;
    }
    // The host fires only when its own copy changed; a whole value the kernel re-sends after
    // patches (its copy was older than the view's) can equal what the view already shows.
    const patched = this.shown.has(name);
    const before = this.shown.get(name);
    this.shown.delete(name);
    this.client.kernelChanged(name, value);
    if (!patched || !deepEqual(before, value)) this.emit(`change:${name}`);
  }

  // ----------------------------------------------------------------- events for views

  on(event: string, callback: Listener): void {
    let set = this.emitter.get(event);
    if (!set) this.emitter.set(event, (set = new Set()));
    set.add(callback);
    if (event.startsWith("change:") && this.via) this.watch(this.traitOf(event.slice("change:".length)));
  }

  off(event: string, callback: Listener): void {
    this.emitter.get(event)?.delete(callback);
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const callback of [...(this.emitter.get(event) ?? [])]) {
      try {
        (callback as (...a: unknown[]) => void)(...args);
      } catch (error) {
        console.error(error);
      }
    }
  }

  // ----------------------------------------------------------------- messages

  /** Send an event or set; without a kernel it is answered here, with an error naming why. */
  private send(message: EventMessage | SetMessage): void {
    if (this.connection.status !== "offline" && typeof this.host.send === "function") {
      this.host.send(this.connection.stamp(message));
      this.connection.sent(this.waiter, this.host);
      return;
    }
    const what = message.type === "event" ? message.handler : message.var;
    const error = { handler: what, type: "NotConnected", message: this.connection.reason };
    queueMicrotask(() => this.client.receive({ type: "error", id: message.id, error }));
  }

  private waiter = {
    awaiting: (): boolean => this.client.awaiting(),
    fail: (reason: string): void => this.client.close(reason),
  };

  private onMessage = (content: unknown, buffers?: unknown): void => {
    if (isObjectWithType(content, "pong")) {
      this.connection.answered();
      return;
    }
    if (!isIncoming(content)) {
      this.emit("msg:custom", content, buffers);
      return;
    }
    this.connection.answered();
    this.receive(content);
  };

  private receive(content: unknown): void {
    if (!isIncoming(content) || content.type === "runtime" || this.seen.has(content)) return;
    this.seen.add(content);
    try {
      this.client.receive(content);
    } catch (error) {
      this.reportError(failure(content, error));
    }
  }

  private reportError(info: ErrorInfo): void {
    console.error(`nbstate: ${formatError(info)}`);
    this.emit(ERROR_EVENT, info);
  }

  // ----------------------------------------------------------------- traits

  /**
   * The trait that carries var `name`. A var named like the widget machinery's own attributes
   * (`log`, `keys`, `layout`, …) travels as `_nbvar_<name>`; `_nb_spec.vars[].trait` says so.
   */
  traitOf(name: string): string {
    return this.names().toTrait.get(name) ?? name;
  }

  /** The var a trait carries, or undefined for the model's own (`_`-prefixed) traits. */
  varOf(trait: string): string | undefined {
    return this.names().toVar.get(trait) ?? (trait.startsWith("_") ? undefined : trait);
  }

  private nameMaps: { spec: unknown; toTrait: Map<string, string>; toVar: Map<string, string>; vars: string[] } = {
    spec: undefined,
    toTrait: new Map(),
    toVar: new Map(),
    vars: [],
  };

  private names(): { toTrait: Map<string, string>; toVar: Map<string, string>; vars: string[] } {
    const spec = this.host.get("_nb_spec") as { vars?: { name?: unknown; trait?: unknown }[] } | undefined;
    if (spec !== this.nameMaps.spec) {
      const toTrait = new Map<string, string>();
      const toVar = new Map<string, string>();
      const vars: string[] = [];
      for (const v of Array.isArray(spec?.vars) ? spec.vars : []) {
        if (typeof v.name !== "string") continue;
        const trait = typeof v.trait === "string" ? v.trait : v.name;
        vars.push(trait);
        if (trait !== v.name) {
          toTrait.set(v.name, trait);
          toVar.set(trait, v.name);
        }
      }
      this.nameMaps = { spec, toTrait, toVar, vars };
    }
    return this.nameMaps;
  }

  private traitsToWatch(): string[] {
    const asked = [...this.emitter.keys()]
      .filter((event) => event.startsWith("change:"))
      .map((event) => this.traitOf(event.slice("change:".length)));
    return [...OWN_TRAITS, ...this.names().vars, ...asked];
  }

  private watch(trait: string): void {
    if (!this.via || this.watched.has(trait)) return;
    const callback = (() => this.onHostChange(trait)) as Callback;
    this.watched.set(trait, callback);
    this.via.model.on(`change:${trait}`, callback);
  }

  /** The spec changed (a redefined class): listen to the traits of vars it gained. */
  private rewatch(): void {
    for (const trait of this.traitsToWatch()) this.watch(trait);
  }

  private detach(): void {
    const via = this.via;
    if (!via) return;
    via.model.off("msg:custom", this.onMessage as Callback);
    for (const [trait, callback] of this.watched) via.model.off(`change:${trait}`, callback);
    this.watched.clear();
    this.via = undefined;
  }
}

function isObjectWithType(content: unknown, type: string): boolean {
  return typeof content === "object" && content !== null && (content as { type?: unknown }).type === type;
}

function failure(message: IncomingMessage, error: unknown): ErrorInfo {
  const err = error instanceof Error ? error : new Error(String(error));
  return { handler: `nbstate ${message.type}`, type: err.name, message: err.message };
}
