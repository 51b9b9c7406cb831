/** A tiny element builder: `h("div", { class: "x", "data-nb-var": "n" }, child, "text")`. */

type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) el.append(child);
  }
  return el;
}

/** Show a JSON value as text: strings as they are, everything else as JSON. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value) ?? String(value);
}

let ids = 0;

/** A page-unique element id (labels, help text and error messages refer to elements by id). */
export function uid(prefix: string): string {
  ids += 1;
  return `nbstate-${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}-${ids}`;
}

/** Text only screen readers read (a table's remove column header, a hidden caption). */
export function srOnly(content: string): HTMLSpanElement {
  return h("span", { class: "nbstate-sr-only" }, content);
}

/** The box of a view that cannot run: `div.nbstate-error[data-nb-error][role=alert]`. */
export function errorBox(message: string): HTMLDivElement {
  const box = h("div", { class: "nbstate-error", "data-nb-error": true, role: "alert" }, message);
  box.hidden = message === "";
  return box;
}
