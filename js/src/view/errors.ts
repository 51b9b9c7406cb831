/**
 * The view's error list: one entry per source (a handler, a var, the connection), each with a
 * dismiss button. An entry goes when it is dismissed, when its handler next succeeds, when its
 * var is edited again, or when a handler succeeds after the connection failed.
 *
 * DOM: `div.nbstate-error[data-nb-error][role=alert]` (`hidden` while empty) >
 * `div.nbstate-error-item[data-nb-error-for="<source>"]` > `span.nbstate-error-text`,
 * `button.nbstate-dismiss`.
 */

import { h } from "./dom";

/** The source key of connection failures. */
export const CONNECTION = "connection";

export class ErrorList {
  readonly el: HTMLDivElement;
  private items = new Map<string, HTMLElement>();

  constructor(private readonly onChange: (source: string, message: string | null) => void = () => {}) {
    this.el = h("div", { class: "nbstate-error", "data-nb-error": true, role: "alert" });
    this.el.hidden = true;
  }

  /** Show `message` for `source`, replacing what that source said before. */
  show(source: string, message: string): void {
    const existing = this.items.get(source);
    if (existing?.querySelector(".nbstate-error-text")?.textContent === message) return;
    const dismiss = h("button", { type: "button", class: "nbstate-dismiss", "aria-label": "Dismiss this error" }, "×");
    dismiss.addEventListener("click", () => this.clear(source));
    const item = h("div", { class: "nbstate-error-item", "data-nb-error-for": source }, h("span", { class: "nbstate-error-text" }, message), dismiss);
    if (existing) existing.replaceWith(item);
    else this.el.append(item);
    this.items.set(source, item);
    this.el.hidden = false;
    this.onChange(source, message);
  }

  /** Remove what `source` said; touches the DOM only when there was something. */
  clear(source: string): void {
    const item = this.items.get(source);
    if (!item) return;
    const focused = item.contains(document.activeElement);
    item.remove();
    this.items.delete(source);
    this.el.hidden = this.items.size === 0;
    this.onChange(source, null);
    // A dismissed error leaves the keyboard on the next one, or on the view.
    if (focused) (this.el.querySelector<HTMLElement>(".nbstate-dismiss") ?? this.el.parentElement)?.focus();
  }

  has(source: string): boolean {
    return this.items.has(source);
  }
}
