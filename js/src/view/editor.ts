/**
 * Editors: the control that fits a field, for a var of the default view or a handler's param.
 *
 * An editor shows a value (`show`) and reports the user's edits as whole new values
 * (`onEdit(value, final)`): `final` is false while the user is typing (the caller debounces)
 * and true for a completed edit (a checkbox, a select, a blur or Enter, a row removed). A
 * value the text does not stand for yet (`1e` in a number box, an empty required number) is
 * reported as `undefined`, which a var ignores and a form leaves to the handler's default.
 *
 * Which editor: scalars, dates and enums get one input (`scalars.ts`); `list[str]` a list with
 * remove buttons and an add box, `list[Model]` a table, `dict[str, X]` a key/value table, a
 * model a fieldset (`structured.ts`, `table.ts`); anything else JSON text. A read-only editor
 * shows the value with no control that could change it.
 */

import { jsonEditor, scalarEditor } from "./scalars";
import { dictEditor, listEditor, objectEditor } from "./structured";
import { tableEditor } from "./table";
import { isScalar, type Field } from "./schema";

export interface EditContext {
  /** The id of the editor's main element, which a `<label for>` may name. */
  id: string;
  /** Its accessible name, for elements no `<label for>` names (table cells, sliders, groups). */
  name: string;
  /** Whether a `<label for=id>` names the main element (an input, a select, an output). */
  labelled: boolean;
  /** The id of the visible text naming a group editor (a list, a table), for aria-labelledby. */
  labelId?: string;
  /** The id of help text describing it. */
  describedBy?: string;
  readOnly: boolean;
  /** Attributes of the main element: `data-nb-var`, `data-nb-kind`, `name`, … */
  attrs: Record<string, string>;
  onEdit(value: unknown, final: boolean): void;
}

export interface Editor {
  el: HTMLElement;
  show(value: unknown): void;
}

export type MakeEditor = (field: Field, ctx: EditContext) => Editor;

export const makeEditor: MakeEditor = (field, ctx) => {
  if (isScalar(field)) return scalarEditor(field, ctx);
  if (field.kind === "array" && isScalar(field.item)) return listEditor(field.item, ctx);
  if (field.kind === "array" && field.item.kind === "object") return tableEditor(field.item, ctx, makeEditor);
  if (field.kind === "dict") return dictEditor(field.value, ctx, makeEditor);
  if (field.kind === "object") return objectEditor(field, ctx, makeEditor);
  return jsonEditor(ctx);
};
