/**
 * The model surface nbstate's runtime uses: exactly what anywidget's front-end module spec (AFM)
 * promises of `model`, and nothing else.
 *
 * `get`, `set`, `save_changes`, `send` (a custom message), `on`/`off` of `change:<name>` and
 * `msg:custom`, and `widget_manager.get_model`. A change callback's arguments differ between
 * hosts (ipywidgets passes the Backbone model and the value, marimo only the value, the spec
 * promises nothing), so nbstate reads the value with `get` instead. Hosts that are not ipywidgets
 * (marimo; Panel's `AnyWidgetComponent`, which has no `send`) fire no other event, and no Backbone
 * member (`attributes`, `set_state`, `state_change`, `trigger`, `on("all")`) exists there. Sources:
 * anywidget's `docs/src/pages/en/afm.md` and `packages/types/index.ts`.
 */

export type Callback = (...args: never[]) => void;

export interface WidgetManager {
  /** Resolves the model of a comm id (the part after `IPY_MODEL_`). */
  get_model(modelId: string): Promise<AnyModel> | AnyModel | undefined;
}

/** The `model` an anywidget host passes to an ESM's `initialize` and `render`. */
export interface AnyModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  /** Missing in hosts that cannot send custom messages (Panel); nbstate then shows values read-only. */
  send?(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(event: string, callback: Callback): void;
  off(event?: string | null, callback?: Callback | null): void;
  widget_manager?: WidgetManager;
}

/** `"IPY_MODEL_<id>"` → `<id>`: how widget references travel in traits. */
export const MODEL_PREFIX = "IPY_MODEL_";

export function modelId(ref: string): string {
  return ref.startsWith(MODEL_PREFIX) ? ref.slice(MODEL_PREFIX.length) : ref;
}
