/**
 * The view nbstate renders when a state has no `_nb_view` of its own: a live form over the
 * state's `_nb_spec`.
 *
 * DOM (selectors are stable; tests and users may rely on them):
 *
 *   div.nbstate-view[data-nb-path]         root; gets .nbstate-busy while any handler runs, and
 *                                          .nbstate-busy-shown once one has run for 100 ms
 *     div.nbstate-title, div.nbstate-doc   the state's title and docstring
 *     div.nbstate-error[data-nb-error][role=alert]   errors, one entry per source (errors.ts);
 *                                          `hidden` when there are none
 *     div.nbstate-vars                     a row per shown var (controls.ts, row.ts): its editor
 *                                          has [data-nb-var] (+ [data-nb-kind])
 *     div.nbstate-handlers                 div.nbstate-buttons > button[data-nb-handler], then
 *                                          form[data-nb-handler] per handler with params
 *     div.nbstate-outputs                  div.nbstate-output[data-nb-output] per output
 *                                          (outputs.ts), under the controls
 *     div.nbstate-children                 div.nbstate-child[data-nb-child] per substate
 *
 * A running handler's button or form has `aria-busy="true"` and `data-nb-running="true"` (and
 * its button `aria-disabled="true"`; clicks are ignored) from the moment its event is sent
 * until `done` or `error`. The stylesheet dims it (and shows the progress cursor) only under
 * `.nbstate-busy-shown`: a handler that answers within the delay never repaints the view. That
 * repaint would land in the middle of the round trip, while the kernel's answer is arriving,
 * and it costs 1–2 ms in a page as large as JupyterLab's.
 *
 * A state with a title of `""` (a free output's) shows no title, and with nothing but outputs
 * no frame (`.nbstate-view-bare`): it reads as the cell's output.
 *
 * Errors: a handler's error shows until it is dismissed or the handler next succeeds; a
 * refused var set until it is dismissed or the var is edited again. An event or set that
 * cannot be sent (the kernel restarted or is gone; or the runtime answered it `NotConnected`
 * itself) shows "Not connected" and what to do, until a handler gets through again.
 */

import { PROTOCOL_VERSION, type ErrorInfo } from "../protocol";
import { isObject } from "../core/json";
import { errorBox, h } from "./dom";
import { varControl, type Control } from "./controls";
import { CONNECTION, ErrorList } from "./errors";
import { handlerControl } from "./handlers";
import { ensureStyle } from "./style";
import { ERROR_EVENT, type Cleanup, type Listener, type ViewContext, type ViewStateSpec } from "./types";
import { mountChildren } from "./children";
import { outputArea } from "./outputs";

/** How long a handler runs before the view shows it as busy (dimmed, progress cursor). */
export const BUSY_STYLE_DELAY_MS = 100;

export function renderDefaultView(ctx: ViewContext): Cleanup {
  ensureStyle(ctx.el.ownerDocument);
  let teardown = build(ctx);
  const rebuild = () => {
    teardown();
    teardown = build(ctx);
  };
  ctx.model.on("change:_nb_spec", rebuild);
  return () => {
    ctx.model.off("change:_nb_spec", rebuild);
    teardown();
  };
}

function build(ctx: ViewContext): Cleanup {
  const { model, el } = ctx;
  const spec = model.get("_nb_spec");
  const problem = specProblem(spec);
  if (problem) {
    const path = isObject(spec) && typeof spec.path === "string" ? spec.path : "";
    el.replaceChildren(h("div", { class: "nbstate-view", "data-nb-path": path }, errorBox(problem)));
    return () => el.replaceChildren();
  }
  const state = spec as ViewStateSpec;
  const listeners: [string, Listener][] = [];
  const listen = (event: string, callback: Listener) => {
    model.on(event, callback);
    listeners.push([event, callback]);
  };

  const rows = new Map<string, HTMLElement>();
  const errors = new ErrorList((source, message) => {
    const row = rows.get(source);
    if (row && message === null) row.removeAttribute("data-nb-invalid");
    else if (row) row.setAttribute("data-nb-invalid", "true");
  });
  const notConnected = (error: unknown) => errors.show(CONNECTION, notConnectedMessage(error));
  const report = (source: string, info: ErrorInfo) => {
    if (info.type === NOT_CONNECTED) notConnected(info.message);
    else errors.show(source, formatError(info));
  };
  listen(ERROR_EVENT, ((info: ErrorInfo) => report(info.handler, info)) as Listener);

  const vars = h("div", { class: "nbstate-vars" });
  const controls: Control[] = [];
  const outputs = h("div", { class: "nbstate-outputs" });
  for (const varSpec of state.vars) {
    if (varSpec.hidden) continue;
    if (varSpec.kind === "output") {
      const area = outputArea(varSpec.name);
      area.update(model.get(varSpec.name));
      listen(`change:${varSpec.name}`, () => area.update(model.get(varSpec.name)));
      outputs.append(area.el);
      continue;
    }
    const control = varControl(model, varSpec, {
      edited: (name) => errors.clear(`${state.path}.${name}`),
      failed: notConnected,
    });
    control.update(model.get(varSpec.name));
    listen(`change:${varSpec.name}`, () => control.update(model.get(varSpec.name)));
    rows.set(`${state.path}.${varSpec.name}`, control.row);
    controls.push(control);
    vars.append(control.row);
  }
  vars.hidden = controls.length === 0;
  outputs.hidden = outputs.childElementCount === 0;

  const root = h("div", { class: "nbstate-view", "data-nb-path": state.path, tabindex: "-1" });
  const counts = new Map<HTMLElement, number>();
  let showBusy: ReturnType<typeof setTimeout> | undefined;
  const run = (target: HTMLElement, button: HTMLButtonElement, name: string, payload: Record<string, unknown>) => {
    if (counts.has(target)) return undefined; // still running: a second click would queue a second run
    // Send first: the busy marks are DOM writes (style invalidation in a large page such as
    // JupyterLab's) that the event need not wait for. The answer cannot overtake them, since it
    // arrives in a later task.
    let finished: Promise<void>;
    try {
      finished = model.fire(name, payload);
    } catch (error) {
      finished = Promise.reject(error); // the unsaved sets before it could not be sent
    }
    counts.set(target, 1);
    markBusy(target, button, true);
    root.classList.add("nbstate-busy");
    showBusy ??= setTimeout(() => root.classList.add("nbstate-busy-shown"), BUSY_STYLE_DELAY_MS);
    const source = `${state.path}.${name}`;
    return finished
      .then(
        () => {
          errors.clear(source);
          errors.clear(CONNECTION);
          return true;
        },
        (err: unknown) => {
          if (isHandlerError(err)) report(source, err.info);
          else notConnected(err);
          return false;
        },
      )
      .finally(() => {
        counts.delete(target);
        markBusy(target, button, false);
        if (counts.size === 0) {
          clearTimeout(showBusy);
          showBusy = undefined;
          root.classList.remove("nbstate-busy", "nbstate-busy-shown");
        }
      });
  };
  // Buttons first, in a row; then a form per handler with params.
  const buttons = h("div", { class: "nbstate-buttons" });
  const handlers = h("div", { class: "nbstate-handlers" }, buttons);
  for (const handler of state.handlers) {
    const control = handlerControl(handler, (target, button, payload) => run(target, button, handler.name, payload));
    (handler.params.length === 0 ? buttons : handlers).append(control);
  }
  buttons.hidden = buttons.childElementCount === 0;
  handlers.hidden = state.handlers.length === 0;

  const children = h("div", { class: "nbstate-children" });
  const stopChildren = mountChildren(ctx, children);

  if (state.title !== "") root.append(h("div", { class: "nbstate-title" }, state.title || state.path));
  else if (controls.length === 0 && state.handlers.length === 0) root.classList.add("nbstate-view-bare");
  if (state.doc) root.append(h("div", { class: "nbstate-doc" }, state.doc));
  root.append(errors.el, vars, handlers, outputs, children);
  el.replaceChildren(root);
  return () => {
    clearTimeout(showBusy);
    for (const control of controls) control.dispose();
    for (const [event, callback] of listeners) model.off(event, callback);
    stopChildren();
    el.replaceChildren();
  };
}

function markBusy(target: HTMLElement, button: HTMLButtonElement, busy: boolean): void {
  if (busy) {
    target.setAttribute("aria-busy", "true");
    target.setAttribute("data-nb-running", "true");
    button.setAttribute("aria-disabled", "true");
  } else {
    target.removeAttribute("aria-busy");
    target.removeAttribute("data-nb-running");
    button.removeAttribute("aria-disabled");
  }
}

/** The error type a runtime answers with itself when no kernel could be reached. */
export const NOT_CONNECTED = "NotConnected";

/** `"todo.add: ValueError: type an item first"`. */
function formatError(info: ErrorInfo): string {
  return `${info.handler}: ${info.type}: ${info.message}`;
}

/** The kernel answered with an error (`HandlerError` carries its `info`). */
function isHandlerError(error: unknown): error is Error & { info: ErrorInfo } {
  return error instanceof Error && isObject((error as { info?: unknown }).info);
}

/** What a view says when an event or a set could not reach the kernel. */
export function notConnectedMessage(error: unknown): string {
  const reason = (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
  return (
    `Not connected to the kernel, so this did not run (${reason}). In JupyterLab or Notebook, ` +
    `restart the kernel and run the notebook's cells again; in Voila, reload the page.`
  );
}

/** Why `spec` cannot drive this runtime, or `undefined` when it can. */
function specProblem(spec: unknown): string | undefined {
  if (!isObject(spec) || !Array.isArray(spec.vars) || !Array.isArray(spec.handlers)) {
    return "nbstate: this state has no valid _nb_spec; the kernel and the page do not match.";
  }
  if (spec.protocol !== PROTOCOL_VERSION) {
    return (
      `nbstate: the kernel speaks protocol ${JSON.stringify(spec.protocol)} but this page's ` +
      `runtime speaks protocol ${PROTOCOL_VERSION}. Restart the kernel and reload the page so ` +
      `both come from the same nbstate release.`
    );
  }
  return undefined;
}
