/**
 * One control per var for the default view, chosen from the var's JSON Schema.
 *
 * Base vars are editable: text and number inputs set the local value on `input` and save it on
 * `change`; checkboxes, selects and list edits save at once. Computed vars are read-only text.
 * Every control's element carries `data-nb-var="<name>"`; computed ones also
 * `data-nb-kind="computed"`.
 */

import type { VarSpec } from "../protocol";
import { deepEqual } from "../core/json";
import { h, text } from "./dom";
import { classify, type Field } from "./schema";
import type { NbModel } from "./types";

export interface Control {
  /** The whole row (label and control). */
  row: HTMLElement;
  /** Show a new value of the var. */
  update(value: unknown): void;
}

export function varControl(model: NbModel, spec: VarSpec): Control {
  const field = classify(spec.schema);
  const attrs = { "data-nb-var": spec.name, "data-nb-kind": spec.kind };
  const label = h("span", { class: "nbstate-label" }, spec.name);
  const row = (control: HTMLElement, tag: "label" | "div" = "div") =>
    h(tag, { class: "nbstate-field", title: spec.schema.description }, label, control);

  if (spec.kind === "computed") return readOnly(field, attrs, row);
  const commit = (value: unknown) => {
    model.set(spec.name, value);
    model.save_changes();
  };
  switch (field.kind) {
    case "boolean": {
      const input = h("input", { ...attrs, type: "checkbox" });
      input.addEventListener("change", () => commit(input.checked));
      return { row: row(input, "label"), update: (v) => void (input.checked = v === true) };
    }
    case "integer":
    case "number":
    case "string": {
      const input = scalarInput(field, attrs);
      input.addEventListener("input", () => {
        const value = parseScalar(field, input.value);
        if (value !== undefined) model.set(spec.name, value);
      });
      input.addEventListener("change", () => model.save_changes());
      return { row: row(input, "label"), update: (v) => showScalar(input, field, v) };
    }
    case "enum": {
      const select = enumSelect(field.options, attrs);
      select.addEventListener("change", () => commit(field.options[select.selectedIndex]));
      return { row: row(select, "label"), update: (v) => showEnum(select, field.options, v) };
    }
    case "array":
      return arrayControl(model, spec.name, field.item, attrs, row);
    default:
      return readOnly(field, attrs, row);
  }
}

type Attrs = Record<string, string>;

/** A list item's text, in its own element so controls beside it are not part of it. */
function itemText(item: unknown): HTMLElement {
  return h("span", { class: "nbstate-item" }, text(item));
}

function readOnly(field: Field, attrs: Attrs, row: (el: HTMLElement) => HTMLElement): Control {
  if (field.kind === "array") {
    const list = h("ul", { ...attrs, class: "nbstate-list" });
    const update = (value: unknown) =>
      list.replaceChildren(...(Array.isArray(value) ? value : []).map((item) => h("li", {}, itemText(item))));
    return { row: row(list), update };
  }
  if (field.kind === "json") {
    const pre = h("pre", { ...attrs, class: "nbstate-json" });
    return { row: row(pre), update: (v) => void (pre.textContent = JSON.stringify(v, null, 2) ?? "") };
  }
  const out = h("output", attrs);
  return { row: row(out), update: (v) => void (out.textContent = text(v)) };
}

export function scalarInput(field: Field, attrs: Record<string, string | boolean>): HTMLInputElement {
  if (field.kind === "string") return h("input", { ...attrs, type: "text" });
  return h("input", { ...attrs, type: "number", step: field.kind === "integer" ? "1" : "any" });
}

/** The value an input's text stands for, or `undefined` when it is not a valid one (yet). */
export function parseScalar(field: Field, raw: string): unknown {
  if (field.kind === "string") return raw;
  if (raw.trim() === "") return field.nullable ? null : undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (field.kind === "integer" && !Number.isInteger(n))) return undefined;
  return n;
}

function showScalar(input: HTMLInputElement, field: Field, value: unknown): void {
  // Leave the text alone while it already means this value ("1." while typing 1.5).
  if (parseScalar(field, input.value) === value) return;
  input.value = value === null || value === undefined ? "" : String(value);
}

export function enumSelect(options: unknown[], attrs: Record<string, string>): HTMLSelectElement {
  return h("select", attrs, ...options.map((option, i) => h("option", { value: String(i) }, text(option))));
}

export function showEnum(select: HTMLSelectElement, options: unknown[], value: unknown): void {
  select.selectedIndex = options.findIndex((option) => deepEqual(option, value));
}

/** A list; lists of strings or numbers also get remove buttons and an add box. */
function arrayControl(
  model: NbModel,
  name: string,
  item: Field,
  attrs: Attrs,
  row: (el: HTMLElement) => HTMLElement,
): Control {
  const editable = item.kind === "string" || item.kind === "integer" || item.kind === "number";
  if (!editable) return readOnly({ kind: "array", item, nullable: false }, attrs, row);
  const current = () => {
    const value = model.get(name);
    return Array.isArray(value) ? value : [];
  };
  const commit = (value: unknown[]) => {
    model.set(name, value);
    model.save_changes();
  };
  const list = h("ul", { ...attrs, class: "nbstate-list" });
  const input = scalarInput(item, { "data-nb-add": name, "aria-label": `new ${name} item` });
  const form = h("form", { class: "nbstate-add" }, input, h("button", { type: "submit", "aria-label": `add to ${name}` }, "+"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = parseScalar(item, input.value);
    if (value === undefined || value === null) return;
    commit([...current(), value]);
    input.value = "";
  });
  const update = (value: unknown) => {
    const items = Array.isArray(value) ? value : [];
    list.replaceChildren(
      ...items.map((entry, index) => {
        const remove = h("button", { type: "button", "data-nb-remove": index, "aria-label": `remove ${text(entry)}` }, "×");
        remove.addEventListener("click", () => commit(current().filter((_, i) => i !== index)));
        return h("li", {}, itemText(entry), remove);
      }),
    );
  };
  return { row: row(h("div", { class: "nbstate-array" }, list, form)), update };
}
