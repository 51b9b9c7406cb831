/**
 * Event handler controls for the default view.
 *
 * A handler without params is a `<button data-nb-handler>`; one whose params are all simple
 * (string, number, integer, boolean, enum) is a `<form data-nb-handler>` with one input per
 * param (`name="<param>"`, defaults filled in) and a submit button. Handlers with other params
 * are listed as `<span class="nbstate-skipped" data-nb-skipped>`: the default view cannot build
 * their payload.
 */

import type { HandlerSpec } from "../protocol";
import { h } from "./dom";
import { enumSelect, parseScalar, scalarInput, showEnum } from "./controls";
import { classify, isSimple, type Field } from "./schema";

/** Runs a handler for `el` (the button or form) with the payload; the view tracks busy state. */
export type Run = (el: HTMLElement, payload: Record<string, unknown>) => void;

export function handlerControl(spec: HandlerSpec, run: Run): HTMLElement {
  const title = spec.doc || undefined;
  if (spec.params.length === 0) {
    const button = h("button", { type: "button", "data-nb-handler": spec.name, title }, spec.name);
    button.addEventListener("click", () => run(button, {}));
    return button;
  }
  const params = spec.params.map((param) => ({ param, field: classify(param.schema) }));
  if (!params.every(({ field }) => isSimple(field))) {
    const names = spec.params.map((p) => p.name).join(", ");
    return h("span", { class: "nbstate-skipped", "data-nb-skipped": spec.name, title }, `${spec.name}(${names})`);
  }
  const readers: (() => [string, unknown] | undefined)[] = [];
  const form = h("form", { "data-nb-handler": spec.name, title });
  for (const { param, field } of params) {
    const [input, read] = paramInput(param.name, field, param.required, param.default);
    readers.push(() => {
      const value = read();
      return value === undefined ? undefined : [param.name, value];
    });
    form.append(h("label", {}, param.name + " ", input));
  }
  form.append(h("button", { type: "submit" }, spec.name));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const entries = readers.map((read) => read()).filter((e): e is [string, unknown] => e !== undefined);
    run(form, Object.fromEntries(entries));
  });
  return form;
}

/** An input for one param and a reader giving its value (`undefined`: leave it to the default). */
function paramInput(
  name: string,
  field: Field,
  required: boolean,
  initial: unknown,
): [HTMLElement, () => unknown] {
  const value = required ? undefined : initial;
  if (field.kind === "boolean") {
    const input = h("input", { type: "checkbox", name });
    input.checked = value === true;
    return [input, () => input.checked];
  }
  if (field.kind === "enum") {
    const select = enumSelect(field.options, { name });
    if (value !== undefined) showEnum(select, field.options, value);
    return [select, () => (select.selectedIndex < 0 ? undefined : field.options[select.selectedIndex])];
  }
  // A required number needs a value; a required string may be empty.
  const input = scalarInput(field, { name, required: required && field.kind !== "string" });
  if (value !== undefined && value !== null) input.value = String(value);
  const read = () =>
    field.kind !== "string" && input.value === "" && !required ? undefined : parseScalar(field, input.value);
  return [input, read];
}
