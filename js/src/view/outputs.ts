/**
 * Outputs (`@ns.output`): each one's mime bundle (the Jupyter display data format,
 * `{mime type: data}`), rendered in place and replaced when the kernel sends a new one.
 *
 * DOM: `div.nbstate-output[data-nb-output="<name>"][data-nb-mime="<mime type shown>"]` holding
 * `img` (PNG, JPEG, GIF, SVG), the HTML (pandas tables, `HTML`), the Markdown as HTML, or `pre`
 * (plain text, LaTeX, JSON); an output that raised shows
 * `div.nbstate-output-error[role=alert] > pre` with its traceback (the user's frames only).
 * An image keeps its element across renders, so a new frame never makes the layout jump.
 */

import { isObject } from "../core/json";
import { h } from "./dom";
import { markdownToHtml } from "./markdown";

/** The mime type of an output that raised: `{ename, evalue, traceback: string[]}`. */
export const ERROR_MIME = "application/vnd.nbstate.error+json";

const IMAGES = ["image/png", "image/jpeg", "image/gif"];

/** The mime types shown, best first. */
export const MIME_ORDER = [ERROR_MIME, "text/html", "image/svg+xml", ...IMAGES, "text/markdown", "text/latex", "application/json", "text/plain"];

export interface OutputArea {
  el: HTMLDivElement;
  update(bundle: unknown): void;
}

export function outputArea(name: string): OutputArea {
  const el = h("div", { class: "nbstate-output", "data-nb-output": name });
  return { el, update: (bundle) => renderBundle(el, bundle) };
}

/** Render `bundle` into `el` (replacing what it showed); `{}` or no bundle shows nothing. */
export function renderBundle(el: HTMLElement, bundle: unknown): void {
  const data = isObject(bundle) ? bundle : {};
  const mime = MIME_ORDER.find((m) => m in data);
  if (mime === undefined) {
    el.removeAttribute("data-nb-mime");
    el.replaceChildren();
    return;
  }
  const value = data[mime];
  const previous = el.getAttribute("data-nb-mime");
  el.setAttribute("data-nb-mime", mime);
  if (IMAGES.includes(mime) || mime === "image/svg+xml") {
    const src =
      mime === "image/svg+xml"
        ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(String(value))}`
        : `data:${mime};base64,${String(value).replace(/\s/g, "")}`;
    const old = el.firstElementChild;
    if (previous === mime && old instanceof HTMLImageElement) {
      old.src = src;
      return;
    }
    el.replaceChildren(h("img", { src, alt: typeof data["text/plain"] === "string" ? data["text/plain"] : "output" }));
    return;
  }
  if (mime === ERROR_MIME) {
    const info = isObject(value) ? value : {};
    const lines = Array.isArray(info.traceback) ? info.traceback.map(String) : [`${String(info.ename)}: ${String(info.evalue)}`];
    el.replaceChildren(h("div", { class: "nbstate-output-error", role: "alert" }, h("pre", {}, lines.join("\n"))));
    return;
  }
  if (mime === "text/html" || mime === "text/markdown") {
    const html = h("div", { class: mime === "text/html" ? "nbstate-html" : "nbstate-markdown" });
    html.innerHTML = mime === "text/html" ? String(value) : markdownToHtml(String(value));
    el.replaceChildren(html);
    return;
  }
  const text = mime === "application/json" ? JSON.stringify(value, null, 2) : String(value);
  el.replaceChildren(h("pre", { class: "nbstate-json" }, text));
}
