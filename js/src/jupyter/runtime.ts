/**
 * The nbstate runtime (bundled as `nbstate/static/runtime.js`): what every state's tiny loader
 * ESM delegates to once the page has it. Both entry points are idempotent per widget model.
 */

import { PROTOCOL_VERSION } from "../protocol";
import type { Cleanup } from "../view/types";
import { bindingFor } from "./binding";
import { mountView } from "./mount";
import { widgetModel, type AnyModel } from "./widget";

export { PROTOCOL_VERSION };

/**
 * Handle the model's kernel messages from now on: first `messages`, the ones the loader held
 * while the runtime was loading, in order.
 */
export function initialize({ model, messages = [] }: { model: AnyModel; messages?: unknown[] }): void {
  bindingFor(widgetModel(model)).listen(messages);
}

const mounted = new WeakMap<HTMLElement, Cleanup>();

/** Render the state's view into `el`; returns its cleanup. */
export function render({ model, el }: { model: AnyModel; el: HTMLElement }): Cleanup {
  mounted.get(el)?.();
  const cleanup = mountView(bindingFor(widgetModel(model)), el);
  // Keys typed in a view are the view's: JupyterLab's notebook shortcuts (Enter, a, b, …) would
  // otherwise swallow them, as ipywidgets' own controls also prevent.
  el.setAttribute("data-lm-suppress-shortcuts", "true");
  const keepKeys = (event: KeyboardEvent) => event.stopPropagation();
  el.addEventListener("keydown", keepKeys);
  const dispose = () => {
    if (mounted.get(el) === dispose) mounted.delete(el);
    el.removeEventListener("keydown", keepKeys);
    cleanup();
  };
  mounted.set(el, dispose);
  return dispose;
}
