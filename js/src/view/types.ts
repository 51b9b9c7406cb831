/** The contract between hosts and views: the model a view gets and what it may ask of its host. */

import type { HandlerSpec, ParamSpec, StateSpec, VarSpec } from "../protocol";

export type Listener = (...args: never[]) => void;
export type Cleanup = () => void;

/** anywidget's model API plus `fire`; every host (Jupyter, WebSocket) gives views this shape. */
export interface NbModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: Listener): void;
  off(event?: string | null, callback?: Listener | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  /** Runs an event handler; resolves on `done`, rejects with `HandlerError` (`.info`) on `error`. */
  fire(handler: string, payload?: Record<string, unknown>): Promise<void>;
}

export interface ViewContext {
  model: NbModel;
  el: HTMLElement;
  /** Render the child state `ref` (`"IPY_MODEL_<id>"`) into `el`; resolves to its cleanup. */
  mountChild(ref: string, el: HTMLElement): Promise<Cleanup>;
}

/** Backbone event a host fires on a model for errors no caller awaits (background, rejected set). */
export const ERROR_EVENT = "nbstate:error";

// What the default view reads of `_nb_spec` beyond the protocol's core (nbstate/jupyter/spec.py
// writes it; every field is optional so an older kernel's spec still renders).

export interface ViewVarSpec extends VarSpec {
  /** pydantic's `Field(title=...)`, or the name in plain words. */
  label?: string;
  /** pydantic's `Field(description=...)` (a computed var's docstring). */
  help?: string;
  /** Clients cannot set it (`ns.var(read_only=True)`, and every computed var). */
  read_only?: boolean;
  /** Synced, but the default view does not show it (`ns.var(hidden=True)`). */
  hidden?: boolean;
}

export interface ViewParamSpec extends ParamSpec {
  label?: string;
  help?: string;
}

export interface ViewHandlerSpec extends HandlerSpec {
  label?: string;
  params: ViewParamSpec[];
}

export interface ViewStateSpec extends StateSpec {
  /** The state class's docstring. */
  doc?: string;
  vars: ViewVarSpec[];
  handlers: ViewHandlerSpec[];
}
