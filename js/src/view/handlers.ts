/**
 * Event handler controls for the default view.
 *
 * A handler without params is a `<button data-nb-handler>`; one with params a
 * `<form data-nb-handler>` with a labelled editor per param (`name="<param>"` on its main
 * element; defaults filled in; lists, dicts and models get the same editors as vars) and a
 * submit button, so Enter in a field submits it. A form goes back to its defaults after the
 * handler succeeded, and keeps what was typed when it failed. While a handler runs its button
 * is `aria-disabled` and further clicks are ignored (the view tracks that, see `Run`).
 */

import { h } from "./dom";
import { makeEditor, type Editor } from "./editor";
import { labelledRow } from "./row";
import { classify, emptyValue, type Field } from "./schema";
import type { ViewHandlerSpec } from "./types";

/**
 * Runs a handler for `target` (the button or form; `button` is what the user pressed) with the
 * payload. Resolves to whether it succeeded; `undefined` when it is still running from an
 * earlier click, which is then ignored.
 */
export type Run = (target: HTMLElement, button: HTMLButtonElement, payload: Record<string, unknown>) => Promise<boolean> | undefined;

export function handlerControl(spec: ViewHandlerSpec, run: Run): HTMLElement {
  const label = spec.label ?? spec.name;
  const title = spec.doc || undefined;
  if (spec.params.length === 0) {
    const button = h("button", { type: "button", class: "nbstate-handler", "data-nb-handler": spec.name, title }, label);
    button.addEventListener("click", () => void run(button, button, {}));
    return button;
  }

  const form = h("form", { class: "nbstate-form", "data-nb-handler": spec.name, "aria-label": label });
  if (title) form.append(h("div", { class: "nbstate-doc" }, title));
  const params: { name: string; initial: unknown; editor: Editor }[] = [];
  const values = new Map<string, unknown>();
  for (const param of spec.params) {
    const field = classify(param.schema);
    const initial = param.required ? startValue(field) : param.default;
    const attrs: Record<string, string> = { name: param.name };
    if (param.required && (field.kind === "integer" || field.kind === "number")) attrs.required = "";
    const { row, editor } = labelledRow(makeEditor, field, {
      key: param.name,
      label: param.label ?? param.name,
      help: param.help,
      readOnly: false,
      attrs,
      onEdit: (value) => values.set(param.name, value),
    });
    editor.show(initial);
    values.set(param.name, initial);
    params.push({ name: param.name, initial, editor });
    form.append(row);
  }
  const submit = h("button", { type: "submit", class: "nbstate-handler" }, label);
  form.append(h("div", { class: "nbstate-form-actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const payload: Record<string, unknown> = {};
    for (const { name } of params) {
      const value = values.get(name);
      if (value !== undefined) payload[name] = value; // not filled in: the handler's default
    }
    run(form, submit, payload)?.then((ok) => {
      if (!ok) return;
      for (const param of params) {
        values.set(param.name, param.initial);
        param.editor.show(param.initial);
      }
    });
  });
  return form;
}

/** What a required param's editor starts from: empty for numbers (the user must give one). */
function startValue(field: Field): unknown {
  return field.kind === "integer" || field.kind === "number" || field.kind === "json" ? undefined : emptyValue(field);
}
