/** The contract between hosts and views: the model a view gets and what it may ask of its host. */

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
