/**
 * The view nbstate renders when a state has no `_nb_view` of its own: a live form over the
 * state's `_nb_spec`.
 *
 * DOM (selectors are stable; tests and users may rely on them):
 *
 *   div.nbstate-view[data-nb-path]         root; gets .nbstate-busy while any handler runs, and
 *                                          .nbstate-busy-shown once one has run for 100 ms
 *     div.nbstate-title                    the state's title
 *     div.nbstate-error[data-nb-error][role=alert]   last error; `hidden` when there is none
 *     div.nbstate-vars                     one row per var: [data-nb-var] (+ [data-nb-kind])
 *     div.nbstate-handlers                 button/form[data-nb-handler], span[data-nb-skipped]
 *     div.nbstate-children                 div.nbstate-child[data-nb-child] per substate
 *
 * A running handler's button or form has `aria-busy="true"` and `data-nb-running="true"` from
 * the moment its event is sent until `done` or `error`. The stylesheet dims it (and shows the
 * progress cursor) only under `.nbstate-busy-shown`: a handler that answers within the delay
 * never repaints the view. That repaint would land in the middle of the round trip, while the
 * kernel's answer is arriving, and it costs 1–2 ms in a page as large as JupyterLab's.
 */

import { PROTOCOL_VERSION, type ErrorInfo, type StateSpec } from "../protocol";
import { isObject } from "../core/json";
import { errorBox, h } from "./dom";
import { varControl } from "./controls";
import { handlerControl } from "./handlers";
import { ensureStyle } from "./style";
import { ERROR_EVENT, type Cleanup, type Listener, type ViewContext } from "./types";
import { mountChildren } from "./children";

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
    el.replaceChildren(
      h("div", { class: "nbstate-view", "data-nb-path": path }, errorBox(problem)),
    );
    return () => el.replaceChildren();
  }
  const state = spec as StateSpec;
  const listeners: [string, Listener][] = [];
  const listen = (event: string, callback: Listener) => {
    model.on(event, callback);
    listeners.push([event, callback]);
  };

  const error = errorBox("");
  // Every finished handler clears the box: touch the DOM only when that changes something.
  const showError = (message: string) => {
    if (error.textContent === message) return;
    error.textContent = message;
    error.hidden = message === "";
  };
  listen(ERROR_EVENT, ((info: ErrorInfo) => showError(`${info.handler}: ${info.type}: ${info.message}`)) as Listener);

  const vars = h("div", { class: "nbstate-vars" });
  for (const varSpec of state.vars) {
    const control = varControl(model, varSpec);
    control.update(model.get(varSpec.name));
    listen(`change:${varSpec.name}`, () => control.update(model.get(varSpec.name)));
    vars.append(control.row);
  }

  const root = h("div", { class: "nbstate-view", "data-nb-path": state.path });
  const counts = new Map<HTMLElement, number>();
  let showBusy: ReturnType<typeof setTimeout> | undefined;
  const run = (target: HTMLElement, name: string, payload: Record<string, unknown>) => {
    // Send first: the busy marks are DOM writes (style invalidation in a large page such as
    // JupyterLab's) that the event need not wait for. The answer cannot overtake them, since it
    // arrives in a later task.
    const finished = model.fire(name, payload);
    counts.set(target, (counts.get(target) ?? 0) + 1);
    markBusy(target, true);
    root.classList.add("nbstate-busy");
    showBusy ??= setTimeout(() => root.classList.add("nbstate-busy-shown"), BUSY_STYLE_DELAY_MS);
    finished
      .then(
        () => showError(""),
        (err: unknown) => showError(err instanceof Error ? err.message : String(err)),
      )
      .finally(() => {
        const left = (counts.get(target) ?? 1) - 1;
        if (left > 0) counts.set(target, left);
        else {
          counts.delete(target);
          markBusy(target, false);
        }
        if (counts.size === 0) {
          clearTimeout(showBusy);
          showBusy = undefined;
          root.classList.remove("nbstate-busy", "nbstate-busy-shown");
        }
      });
  };
  const handlers = h(
    "div",
    { class: "nbstate-handlers" },
    ...state.handlers.map((handler) => handlerControl(handler, (target, payload) => run(target, handler.name, payload))),
  );

  const children = h("div", { class: "nbstate-children" });
  const stopChildren = mountChildren(ctx, children);

  root.append(h("div", { class: "nbstate-title" }, state.title || state.path), error, vars, handlers, children);
  el.replaceChildren(root);
  return () => {
    clearTimeout(showBusy);
    for (const [event, callback] of listeners) model.off(event, callback);
    stopChildren();
    el.replaceChildren();
  };
}

function markBusy(target: HTMLElement, busy: boolean): void {
  if (busy) {
    target.setAttribute("aria-busy", "true");
    target.setAttribute("data-nb-running", "true");
  } else {
    target.removeAttribute("aria-busy");
    target.removeAttribute("data-nb-running");
  }
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
