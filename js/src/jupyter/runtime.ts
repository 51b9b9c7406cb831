/**
 * The nbstate runtime (bundled as `nbstate/static/runtime.js`): what every state's tiny loader
 * ESM delegates to once the page has it. It uses only the anywidget (AFM) model surface, so the
 * same runtime runs in JupyterLab, Notebook 7, Voila, marimo and a page rendered from saved
 * widget state. Both entry points are idempotent per widget model.
 *
 * `render` puts the view in a frame: `div.nbstate-frame` holding a note
 * (`div.nbstate-offline[role=status]`, hidden while a kernel answers) and a
 * `fieldset.nbstate-controls` around the view, disabled while no kernel answers (see
 * `connection.ts`), so a page without a kernel shows the last values read-only.
 */

import { PROTOCOL_VERSION } from "../protocol";
import type { Cleanup } from "../view/types";
import { bindingFor } from "./binding";
import { mountView } from "./mount";
import type { AnyModel } from "./widget";

export { PROTOCOL_VERSION };

/**
 * Handle the model's kernel messages from now on: first `messages`, the ones the loader held
 * while the runtime was loading, in order.
 */
export function initialize({ model, messages = [] }: { model: AnyModel; messages?: unknown[] }): void {
  bindingFor(model).listen(model, messages);
}

const mounted = new WeakMap<HTMLElement, Cleanup>();

/** Render the state's view into `el`; returns its cleanup. */
export function render({ model, el }: { model: AnyModel; el: HTMLElement }): Cleanup {
  mounted.get(el)?.();
  const binding = bindingFor(model);
  const doc = el.ownerDocument;
  const note = doc.createElement("div");
  note.className = "nbstate-offline";
  note.setAttribute("role", "status");
  note.style.cssText = "font-size:smaller;opacity:.75;margin:2px 0";
  const controls = doc.createElement("fieldset");
  controls.className = "nbstate-controls";
  controls.style.cssText = "border:0;margin:0;padding:0;min-width:0";
  const frame = doc.createElement("div");
  frame.className = "nbstate-frame";
  frame.append(note, controls);
  el.replaceChildren(frame);

  const { connection } = binding;
  const showStatus = () => {
    const offline = connection.status === "offline";
    note.hidden = !offline;
    note.textContent = offline ? connection.reason : "";
    controls.disabled = offline;
  };
  showStatus();
  const unwatch = connection.watch(showStatus);
  const cleanup = mountView(binding, controls);
  shareStyle(el);
  // Keys typed in a view are the view's: JupyterLab's notebook shortcuts (Enter, a, b, …) would
  // otherwise swallow them, as ipywidgets' own controls also prevent.
  el.setAttribute("data-lm-suppress-shortcuts", "true");
  const keepKeys = (event: KeyboardEvent) => event.stopPropagation();
  el.addEventListener("keydown", keepKeys);
  const dispose = () => {
    if (mounted.get(el) === dispose) mounted.delete(el);
    el.removeEventListener("keydown", keepKeys);
    unwatch();
    cleanup();
    frame.remove();
  };
  mounted.set(el, dispose);
  return dispose;
}

/**
 * marimo renders each widget in a shadow root, which the stylesheet the default view puts in the
 * document's head does not reach: give the shadow root a copy.
 */
function shareStyle(el: HTMLElement): void {
  const root = el.getRootNode();
  if (!(root instanceof ShadowRoot) || root.getElementById("nbstate-style")) return;
  const style = el.ownerDocument.getElementById("nbstate-style");
  if (style) root.prepend(style.cloneNode(true));
}
