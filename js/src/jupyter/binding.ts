/**
 * One state's `StateClient` bound to its ipywidgets model: one binding per model per page.
 *
 * Echoes. Var values the kernel did not send (the browser's optimistic sets, patch results,
 * reverts) are shown with `WidgetModel.set_state`, which records them in `_state_lock` for the
 * duration of the `set`: ipywidgets' `set` leaves locked keys out of `_buffered_state_diff` and
 * `sync` drops them too, so no later `save_changes` sends them back as a trait update. Browser
 * sets travel only as nbstate `set` messages. The client never calls `set_state` from inside
 * another `set` (its deferred writes run on a microtask), because a nested `set_state` would
 * reset the outer call's lock to `null`.
 *
 * Order. ipywidgets deserialises each trait `update` on the promise chain `model.state_change`
 * while custom messages fire at once, so a patch could otherwise overtake an update the kernel
 * sent before it. Each nbstate message is appended to that same chain, so it runs after every
 * update received before it and before every update received after it.
 *
 * The other direction. JupyterLab may send comm messages over a kernel subshell once it is
 * ready and over the main shell before, so two messages can reach the kernel out of order. Every
 * event and set therefore carries `client` (one per page and widget manager, i.e. per kernel
 * connection) and `seq` (1, 2, 3, … across all that client's models); the kernel runs them in
 * `seq` order.
 */

import { formatError, newClientId, StateClient } from "../core/client";
import { isIncoming, type ErrorInfo, type IncomingMessage } from "../protocol";
import { ERROR_EVENT } from "../view/types";
import type { Callback, WidgetModel } from "./widget";

const bindings = new WeakMap<WidgetModel, ModelBinding>();

interface Sequence {
  client: string;
  next: number;
}
const sequences = new WeakMap<object, Sequence>();

/** Stamp an outgoing event or set with its connection's client id and next sequence number. */
function stamp<M extends object>(model: WidgetModel, message: M): M & { client: string; seq: number } {
  const manager = model.widget_manager as object;
  let sequence = sequences.get(manager);
  if (!sequence) {
    sequence = { client: newClientId(), next: 1 };
    sequences.set(manager, sequence);
  }
  return { ...message, client: sequence.client, seq: sequence.next++ };
}

/** The binding of `model`, created on first use. */
export function bindingFor(model: WidgetModel): ModelBinding {
  let binding = bindings.get(model);
  if (!binding) {
    binding = new ModelBinding(model);
    bindings.set(model, binding);
  }
  return binding;
}

export class ModelBinding {
  readonly client: StateClient;
  private writing = false;
  private listening = false;
  /** Messages already handled: a second `initialize` (hot reload) may replay some. */
  private seen = new WeakSet<object>();

  constructor(readonly model: WidgetModel) {
    this.client = new StateClient({
      store: {
        get: (name) => model.get(this.traitOf(name)),
        write: (values) => this.write(values),
      },
      send: (message) => model.send(stamp(model, message)),
      onError: (info) => this.reportError(info),
    });
    model.on("all", this.onEvent as Callback, this);
    model.on("comm:close", (() => this.client.close("nbstate: the kernel closed this state's comm")) as Callback, this);
  }

  /**
   * Handle `held` (the messages that arrived before the runtime did), then every later one.
   * Until this is called nothing is handled, so the held messages always come first.
   */
  listen(held: readonly unknown[]): void {
    for (const message of held) this.receive(message);
    if (this.listening) return;
    this.listening = true;
    this.model.on("msg:custom", this.onMessage as Callback, this);
  }

  private receive(content: unknown): void {
    if (!isIncoming(content) || content.type === "runtime" || this.seen.has(content)) return;
    this.seen.add(content);
    const run = () => {
      try {
        this.client.receive(content);
      } catch (error) {
        this.reportError(failure(content, error));
      }
    };
    // Chained on ipywidgets' own update chain; see the module docstring.
    const chain = this.model.state_change;
    if (chain) this.model.state_change = chain.then(run);
    else run();
  }

  private onMessage = (content: unknown): void => this.receive(content);

  /** Backbone `all`: ("change:<attr>", model, value, options) for every attribute change. */
  private onEvent = (event: string, _model: unknown, value: unknown): void => {
    if (this.writing || !event.startsWith("change:")) return;
    const name = this.varOf(event.slice("change:".length));
    if (name !== undefined) this.client.kernelChanged(name, value);
  };

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

  private nameMaps: { spec: unknown; toTrait: Map<string, string>; toVar: Map<string, string> } = {
    spec: undefined,
    toTrait: new Map(),
    toVar: new Map(),
  };

  private names(): { toTrait: Map<string, string>; toVar: Map<string, string> } {
    const spec = this.model.get("_nb_spec") as { vars?: { name?: unknown; trait?: unknown }[] } | undefined;
    if (spec !== this.nameMaps.spec) {
      const toTrait = new Map<string, string>();
      const toVar = new Map<string, string>();
      for (const v of spec?.vars ?? []) {
        if (typeof v.name === "string" && typeof v.trait === "string" && v.trait !== v.name) {
          toTrait.set(v.name, v.trait);
          toVar.set(v.trait, v.name);
        }
      }
      this.nameMaps = { spec, toTrait, toVar };
    }
    return this.nameMaps;
  }

  private write(values: Record<string, unknown>): void {
    const traits: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) traits[this.traitOf(name)] = value;
    this.writing = true;
    try {
      this.model.set_state(traits);
    } finally {
      this.writing = false;
    }
  }

  private reportError(info: ErrorInfo): void {
    console.error(`nbstate: ${formatError(info)}`);
    this.model.trigger(ERROR_EVENT, info);
  }
}

function failure(message: IncomingMessage, error: unknown): ErrorInfo {
  const err = error instanceof Error ? error : new Error(String(error));
  return { handler: `nbstate ${message.type}`, type: err.name, message: err.message };
}
