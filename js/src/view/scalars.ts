/**
 * One-input editors: checkbox, text, number (a slider beside it when both bounds are known),
 * the browser's date, date-time and time pickers, a select for enums, JSON text for the rest.
 *
 * Text-like inputs report every keystroke (`final: false`) and the completed edit on `change`
 * (blur, Enter, a picker closed). `show` leaves an input alone while its text already stands
 * for the value shown (`1.` while typing 1.5), so a kernel echo never rewrites what the user is
 * typing.
 */

import { deepEqual } from "../core/json";
import { h, text } from "./dom";
import type { EditContext, Editor } from "./editor";
import type { Field } from "./schema";

type Attrs = Record<string, string | boolean | undefined>;

export function scalarEditor(field: Field, ctx: EditContext): Editor {
  if (ctx.readOnly) return readOnlyScalar(field, ctx);
  switch (field.kind) {
    case "boolean":
      return checkbox(ctx);
    case "enum":
      return select(field.options, field.nullable, ctx);
    case "integer":
    case "number":
      return field.min !== undefined && field.max !== undefined ? slider(field, ctx) : textual(field, ctx);
    default:
      return textual(field, ctx);
  }
}

/** The attributes every main element gets: id, name (when unlabelled), help, caller's. */
function common(ctx: EditContext): Attrs {
  return {
    ...ctx.attrs,
    id: ctx.id,
    "aria-label": ctx.labelled ? undefined : ctx.name,
    "aria-describedby": ctx.describedBy,
  };
}

function checkbox(ctx: EditContext): Editor {
  const input = h("input", { ...common(ctx), type: "checkbox" });
  input.addEventListener("change", () => ctx.onEdit(input.checked, true));
  return { el: input, show: (v) => void (input.checked = v === true) };
}

const INPUT_TYPES: Partial<Record<Field["kind"], string>> = {
  integer: "number",
  number: "number",
  date: "date",
  datetime: "datetime-local",
  time: "time",
};

/** A text, number, date, date-time or time input. */
function textual(field: Field, ctx: EditContext): Editor {
  const type = INPUT_TYPES[field.kind] ?? "text";
  const attrs: Attrs = { ...common(ctx), type };
  if (field.kind === "integer" || field.kind === "number") {
    attrs.step = field.step !== undefined ? String(field.step) : field.kind === "integer" ? "1" : "any";
    if (field.min !== undefined) attrs.min = String(field.min);
    if (field.max !== undefined) attrs.max = String(field.max);
  }
  if (field.kind === "datetime" || field.kind === "time") attrs.step = "1"; // show seconds
  const input = h("input", attrs);
  let shown: unknown;
  const read = () => {
    const value = parseInput(field, input.value, shown);
    // A number box holding text that is no number reads as "" and says so in `badInput`.
    const bad = value === undefined && (input.value !== "" || input.validity?.badInput === true);
    input.setAttribute("aria-invalid", String(bad));
    return value;
  };
  input.addEventListener("input", () => ctx.onEdit(read(), false));
  input.addEventListener("change", () => {
    const value = read();
    ctx.onEdit(value, true);
    if (value === undefined && shown !== undefined) {
      // Left holding no value: show the value again rather than text that means nothing.
      input.value = toInput(field, shown);
      input.removeAttribute("aria-invalid");
    }
  });
  const show = (value: unknown) => {
    shown = value;
    const next = toInput(field, value);
    if (input.value === next) return;
    if (value !== undefined && deepEqual(parseInput(field, input.value, value), value)) return;
    input.value = next;
    input.removeAttribute("aria-invalid");
  };
  return { el: input, show };
}

/** How often a dragged slider sends its value, at most (ms). */
export const SLIDER_SEND_MS = 100;

/** A range slider and a number box showing the same value. */
function slider(field: Field & { kind: "integer" | "number" }, ctx: EditContext): Editor {
  const box = textual(field, ctx);
  const input = box.el as HTMLInputElement;
  const step = field.step ?? (field.kind === "integer" ? 1 : ((field.max ?? 1) - (field.min ?? 0)) / 100 || "any");
  const range = h("input", {
    type: "range",
    class: "nbstate-slider",
    min: String(field.min),
    max: String(field.max),
    step: String(step),
    "aria-label": ctx.name,
    "aria-describedby": ctx.describedBy,
  });
  const fromRange = (final: boolean) => {
    const value = Number(range.value);
    input.value = String(value);
    ctx.onEdit(value, final);
  };
  // While dragged, the value is sent at most every SLIDER_SEND_MS (so a chart that follows it
  // redraws during the drag, not only once the hand stops); the rest wait for the debounce,
  // and the release (`change`) sends the final value.
  let sentAt = -Infinity;
  range.addEventListener("input", () => {
    const now = Date.now();
    const due = now - sentAt >= SLIDER_SEND_MS;
    if (due) sentAt = now;
    fromRange(due);
  });
  range.addEventListener("change", () => {
    sentAt = Date.now();
    fromRange(true);
  });
  input.addEventListener("input", () => {
    if (input.value !== "") range.value = input.value;
  });
  const el = h("span", { class: "nbstate-range" }, range, input);
  return {
    el,
    show: (value) => {
      box.show(value);
      if (typeof value === "number") range.value = String(value);
    },
  };
}

function select(options: unknown[], nullable: boolean, ctx: EditContext): Editor {
  const choices = nullable && !options.includes(null) ? [null, ...options] : options;
  const el = h(
    "select",
    common(ctx),
    ...choices.map((option, i) => h("option", { value: String(i) }, option === null ? "(none)" : text(option))),
  );
  el.addEventListener("change", () => ctx.onEdit(choices[el.selectedIndex], true));
  return { el, show: (value) => void (el.selectedIndex = choices.findIndex((c) => deepEqual(c, value))) };
}

/** JSON text for values no other editor fits; text that is not JSON is marked invalid. */
export function jsonEditor(ctx: EditContext): Editor {
  if (ctx.readOnly) {
    const pre = h("pre", { ...common(ctx), class: "nbstate-json", tabindex: "0" });
    return { el: pre, show: (v) => void (pre.textContent = JSON.stringify(v, null, 2) ?? "") };
  }
  const area = h("textarea", { ...common(ctx), class: "nbstate-json", rows: "2", spellcheck: "false" });
  const read = () => {
    if (area.value.trim() === "") return undefined;
    try {
      const value: unknown = JSON.parse(area.value);
      area.setAttribute("aria-invalid", "false");
      return value;
    } catch {
      area.setAttribute("aria-invalid", "true");
      return undefined;
    }
  };
  area.addEventListener("input", () => ctx.onEdit(read(), false));
  area.addEventListener("change", () => ctx.onEdit(read(), true));
  const show = (value: unknown) => {
    try {
      if (deepEqual(JSON.parse(area.value), value)) return;
    } catch {
      // not JSON yet: replace it
    }
    area.value = value === undefined ? "" : JSON.stringify(value);
  };
  return { el: area, show };
}

/** How a read-only editor shows a value: text (a disabled checkbox for booleans). */
function readOnlyScalar(field: Field, ctx: EditContext): Editor {
  if (field.kind === "boolean") {
    const input = h("input", { ...common(ctx), type: "checkbox", disabled: true });
    return { el: input, show: (v) => void (input.checked = v === true) };
  }
  const out = h("output", common(ctx));
  return { el: out, show: (v) => void (out.textContent = display(field, v)) };
}

/** A value as read-only text: `—` for none, a date-time with a space, strings as they are. */
export function display(field: Field, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (field.kind === "datetime" && typeof value === "string") return value.replace("T", " ");
  return text(value);
}

// --- the text of an input and the value it stands for ---------------------------------------

const ZONED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
const TIME = /^(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The value an input's text stands for, or `undefined` when it stands for none (yet).
 * Date-times and times keep the zone of `current` (the browser's pickers have none), so an
 * aware datetime stays aware.
 */
export function parseInput(field: Field, raw: string, current?: unknown): unknown {
  if (raw.trim() === "") return field.nullable ? null : field.kind === "string" ? "" : undefined;
  switch (field.kind) {
    case "integer":
    case "number": {
      const n = Number(raw);
      if (!Number.isFinite(n) || (field.kind === "integer" && !Number.isInteger(n))) return undefined;
      return n;
    }
    case "datetime":
    case "time": {
      const zone = typeof current === "string" ? ((field.kind === "time" ? TIME : ZONED).exec(current)?.[2] ?? "") : "";
      const seconds = raw.length === (field.kind === "time" ? 5 : 16) ? ":00" : "";
      return `${raw}${seconds}${zone}`;
    }
    default:
      return raw;
  }
}

/** The text an input shows for a value. */
export function toInput(field: Field, value: unknown): string {
  if (value === null || value === undefined) return "";
  if ((field.kind === "datetime" || field.kind === "time") && typeof value === "string") {
    return (field.kind === "time" ? TIME : ZONED).exec(value)?.[1] ?? value;
  }
  return String(value);
}
