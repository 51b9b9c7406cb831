/**
 * One state of a served page as an anywidget (AFM) model: what the runtime's bindings and views
 * read and listen to in any anywidget host, backed by the socket host's session document.
 *
 * - `get("_nb_spec" | "_nb_view" | "_nb_children" | "_nb_css")` come from the page config;
 *   a var's trait (`_nb_spec.vars[].trait`, else its name) reads the session document.
 * - `change:<trait>` fires when a snapshot or delta changed that var (as a trait update would).
 * - `send(content)` hands nbstate's `event`/`set`/`ping` messages to the host, which speaks the
 *   socket protocol; the host's answers (`done`, `error`, `pong`) arrive as `msg:custom`.
 * - `set`/`save_changes` keep a value on this model only: the server owns var values, and the
 *   runtime saves vars as `set` messages, never as trait syncs.
 */

import type { StateSpec } from "../protocol";
import type { AnyModel, Callback, WidgetManager } from "../jupyter/widget";

/** What the page says of one state (see `nbstate/server/page.py`). */
export interface StateConfig {
  spec: StateSpec;
  /** The state's own ESM view, or `""` for the default view. */
  view: string;
  css: string;
  /** The substates' paths. */
  children: string[];
}

/** What a socket model needs of its host. */
export interface ModelHost {
  /** The state's vars in the session document. */
  values(path: string): Record<string, unknown> | undefined;
  /** An nbstate message from the runtime (`event`, `set`, `ping`). */
  send(model: SocketModel, content: unknown): void;
  readonly widget_manager: WidgetManager;
}

const OWN: Record<string, keyof StateConfig> = {
  _nb_spec: "spec",
  _nb_view: "view",
  _nb_children: "children",
  _nb_css: "css",
};

export class SocketModel implements AnyModel {
  private listeners = new Map<string, Set<Callback>>();
  private local = new Map<string, unknown>();
  /** trait → var, for vars whose trait is not their name. */
  private readonly traitToVar = new Map<string, string>();
  /** var → trait. */
  readonly varToTrait = new Map<string, string>();

  constructor(
    readonly path: string,
    readonly config: StateConfig,
    private readonly host: ModelHost,
  ) {
    const vars = (config.spec as { vars?: { name?: unknown; trait?: unknown }[] }).vars ?? [];
    for (const v of vars) {
      if (typeof v.name !== "string") continue;
      const trait = typeof v.trait === "string" ? v.trait : v.name;
      this.varToTrait.set(v.name, trait);
      this.traitToVar.set(trait, v.name);
    }
  }

  get widget_manager(): WidgetManager {
    return this.host.widget_manager;
  }

  get(name: string): unknown {
    if (this.local.has(name)) return this.local.get(name);
    const own = OWN[name];
    if (own !== undefined) return this.config[own];
    return this.host.values(this.path)?.[this.traitToVar.get(name) ?? name];
  }

  set(name: string, value: unknown): void {
    if (Object.is(this.get(name), value)) return;
    this.local.set(name, value);
    this.emit(`change:${name}`, value);
  }

  save_changes(): void {
    // Vars travel as nbstate `set` messages; nothing is synced from a model.
  }

  send(content: unknown): void {
    this.host.send(this, content);
  }

  on(event: string, callback: Callback): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(callback);
  }

  off(event?: string | null, callback?: Callback | null): void {
    for (const [name, set] of this.listeners) {
      if (event != null && name !== event) continue;
      if (callback == null) set.clear();
      else set.delete(callback);
    }
  }

  /** A var's value in the session document changed. */
  varChanged(name: string): void {
    if (this.local.has(name)) return;
    const trait = this.varToTrait.get(name) ?? name;
    this.emit(`change:${trait}`, this.get(trait));
  }

  /** Deliver a custom message, as a kernel's would arrive. */
  receive(content: unknown): void {
    this.emit("msg:custom", content, []);
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const callback of [...(this.listeners.get(event) ?? [])]) {
      try {
        (callback as (...a: unknown[]) => void)(...args);
      } catch (error) {
        console.error(error);
      }
    }
  }
}
