/**
 * A labelled row: the label, the editor and its help text, tied together for assistive
 * technology. A one-input editor is named by `<label for>`; a group (a list, a table) by
 * `aria-labelledby` on the visible label; a model's fieldset by its own `<legend>`. Help text
 * is `div.nbstate-help`, referenced by `aria-describedby`.
 *
 * DOM: `div.nbstate-field[data-nb-row="<name>"]` > `label.nbstate-label` | `span.nbstate-label`,
 * the editor, `div.nbstate-help`.
 */

import { h, uid } from "./dom";
import type { Editor, EditContext, MakeEditor } from "./editor";
import { isScalar, type Field } from "./schema";

export interface RowOptions {
  /** The var's or param's name (`data-nb-row`), unique within its list. */
  key: string;
  label: string;
  help?: string | undefined;
  readOnly: boolean;
  attrs: Record<string, string>;
  onEdit(value: unknown, final: boolean): void;
}

export interface Row {
  row: HTMLElement;
  editor: Editor;
}

export function labelledRow(make: MakeEditor, field: Field, opts: RowOptions): Row {
  const id = uid(opts.key);
  const helpId = opts.help ? `${id}-help` : undefined;
  const single = isScalar(field) || field.kind === "json";
  const ctx: EditContext = {
    id,
    name: opts.label,
    labelled: single,
    readOnly: opts.readOnly,
    attrs: opts.attrs,
    onEdit: opts.onEdit,
  };
  if (helpId) ctx.describedBy = helpId;
  let label: HTMLElement | null = null;
  if (single) {
    label = h("label", { class: "nbstate-label", for: id }, opts.label);
  } else if (field.kind !== "object") {
    ctx.labelId = `${id}-label`;
    label = h("span", { class: "nbstate-label", id: ctx.labelId }, opts.label);
  }
  const editor = make(field, ctx);
  const help = helpId ? h("div", { class: "nbstate-help", id: helpId }, opts.help) : null;
  const kind = single ? "nbstate-field" : "nbstate-field nbstate-field-group";
  const row = h("div", { class: kind, "data-nb-row": opts.key }, label, h("div", { class: "nbstate-control" }, editor.el, help));
  return { row, editor };
}
