/**
 * Editors of structured values: a list of scalars, a `dict[str, X]` as a key/value table, a
 * model as a fieldset. Each keeps the value it shows and reports an edit of a part as the
 * whole new value; an edit of a part whose text stands for no value yet is not reported.
 * Elements are updated in place, so an input keeps its focus and text while values arrive.
 *
 * DOM: a list is `ul.nbstate-list` (`li` > `span.nbstate-item`, `button[data-nb-remove=<i>]`)
 * and `div.nbstate-add` (`[data-nb-add]` input, add button); a dict is
 * `table.nbstate-table.nbstate-dict` (a row per key: `th` key, `td` value, `td` remove button)
 * with an add row in its `tfoot`; a model is `fieldset.nbstate-object` (`legend`, a
 * `div.nbstate-field` per field).
 */

import { deepEqual, isObject } from "../core/json";
import { h, srOnly, text, uid } from "./dom";
import type { EditContext, Editor, MakeEditor } from "./editor";
import { labelledRow } from "./row";
import { scalarEditor } from "./scalars";
import { emptyValue, type Field } from "./schema";

/** The name a var or param editor is known by in `data-nb-add` and similar hooks. */
function keyOf(ctx: EditContext): string {
  return ctx.attrs["data-nb-var"] ?? ctx.attrs.name ?? ctx.id;
}

/** Attributes naming a group editor: by its visible label, or by its name. */
export function groupName(ctx: EditContext): Record<string, string | undefined> {
  return {
    "aria-labelledby": ctx.labelId,
    "aria-label": ctx.labelId ? undefined : ctx.name,
    "aria-describedby": ctx.describedBy,
  };
}

/** Items of a list of scalars; writable: a remove button each and an add box. */
export function listEditor(item: Field, ctx: EditContext): Editor {
  let current: unknown[] = [];
  // An edit shows at once: a second one before the kernel's echo builds on the first.
  const commit = (next: unknown[]) => {
    ctx.onEdit(next, true);
    show(next);
  };
  const list = h("ul", { ...ctx.attrs, ...groupName(ctx), id: ctx.id, class: "nbstate-list" });
  const render = () => {
    const focused = list.contains(document.activeElement) ? Number((document.activeElement as HTMLElement).dataset.nbRemove) : -1;
    list.replaceChildren(
      ...current.map((entry, index) => {
        const li = h("li", {}, h("span", { class: "nbstate-item" }, text(entry)));
        if (!ctx.readOnly) {
          const remove = h("button", { type: "button", class: "nbstate-remove", "data-nb-remove": index, "aria-label": `Remove ${text(entry)}` }, "×");
          remove.addEventListener("click", () => commit(current.filter((_, i) => i !== index)));
          li.append(remove);
        }
        return li;
      }),
    );
    // Removing an item keeps the keyboard in the list: on the next item's button, or the last.
    if (focused >= 0) list.querySelectorAll<HTMLElement>("[data-nb-remove]")[Math.min(focused, current.length - 1)]?.focus();
  };
  function show(value: unknown) {
    const next = Array.isArray(value) ? value : [];
    if (deepEqual(next, current) && list.childElementCount === next.length) return;
    current = next;
    render();
  }
  if (ctx.readOnly) return { el: list, show };

  const key = keyOf(ctx);
  let draft: unknown;
  const input = scalarEditor(item, {
    id: uid(`${key}-add`),
    name: `New ${ctx.name} item`,
    labelled: false,
    readOnly: false,
    attrs: { "data-nb-add": key },
    onEdit: (value) => (draft = value),
  });
  const add = () => {
    if (draft === undefined || (typeof draft === "string" && draft.trim() === "")) return;
    commit([...current, draft]);
    draft = undefined;
    input.show(item.kind === "string" ? "" : null);
  };
  const button = h("button", { type: "button", class: "nbstate-add-button", "aria-label": `Add to ${ctx.name}` }, "Add");
  button.addEventListener("click", add);
  onEnter(input.el, add);
  const box = h("div", { class: "nbstate-add" }, input.el, button);
  return { el: h("div", { class: "nbstate-array" }, list, box), show };
}

/** A `dict[str, X]`: a row per key; writable: the value's editor, a remove button, an add row. */
export function dictEditor(valueField: Field, ctx: EditContext, make: MakeEditor): Editor {
  let current: Record<string, unknown> = {};
  const commit = (next: Record<string, unknown>, final: boolean) => {
    ctx.onEdit(next, final);
    show(next);
  };
  const rows = new Map<string, { tr: HTMLTableRowElement; editor: Editor }>();
  const body = h("tbody");
  const head = h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Value"));
  if (!ctx.readOnly) head.append(h("th", { scope: "col" }, srOnly("Remove")));
  const table = h("table", { ...ctx.attrs, ...groupName(ctx), id: ctx.id, class: "nbstate-table nbstate-dict" }, h("thead", {}, head), body);

  const rowFor = (key: string) => {
    const editor = make(valueField, {
      id: uid(`${keyOf(ctx)}-value`),
      name: `${ctx.name}: ${key}`,
      labelled: false,
      readOnly: ctx.readOnly,
      attrs: { "data-nb-key": key },
      onEdit: (value, final) => {
        if (value !== undefined) commit({ ...current, [key]: value }, final);
      },
    });
    const tr = h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, editor.el));
    if (!ctx.readOnly) {
      const remove = h("button", { type: "button", class: "nbstate-remove", "data-nb-remove": key, "aria-label": `Remove ${key}` }, "×");
      remove.addEventListener("click", () => {
        const next = { ...current };
        delete next[key];
        commit(next, true);
      });
      tr.append(h("td", {}, remove));
    }
    return { tr, editor };
  };

  function show(value: unknown) {
    current = isObject(value) ? value : {};
    for (const [key, row] of rows) {
      if (!(key in current)) {
        row.tr.remove();
        rows.delete(key);
      }
    }
    for (const [key, entry] of Object.entries(current)) {
      let row = rows.get(key);
      if (!row) {
        row = rowFor(key);
        rows.set(key, row);
      }
      body.append(row.tr); // in the value's key order
      row.editor.show(entry);
    }
  }
  if (!ctx.readOnly) table.append(addRow(valueField, ctx, make, () => current, (next) => commit(next, true)));
  return { el: table, show };
}

/** The `tfoot` of a writable dict: a new key, its value, an add button. */
function addRow(
  valueField: Field,
  ctx: EditContext,
  make: MakeEditor,
  current: () => Record<string, unknown>,
  commit: (next: Record<string, unknown>) => void,
): HTMLElement {
  const key = h("input", { type: "text", class: "nbstate-new-key", "aria-label": `New key of ${ctx.name}`, "data-nb-add": keyOf(ctx) });
  let draft = emptyValue(valueField);
  const value = make(valueField, {
    id: uid(`${keyOf(ctx)}-new`),
    name: `Value of the new key of ${ctx.name}`,
    labelled: false,
    readOnly: false,
    attrs: {},
    onEdit: (v) => void (v !== undefined && (draft = v)),
  });
  value.show(draft);
  const add = () => {
    const name = key.value.trim();
    const taken = name === "" || name in current();
    key.setAttribute("aria-invalid", String(taken));
    if (taken) return;
    commit({ ...current(), [name]: draft });
    key.value = "";
    draft = emptyValue(valueField);
    value.show(draft);
  };
  const button = h("button", { type: "button", class: "nbstate-add-button" }, "Add");
  button.addEventListener("click", add);
  onEnter(key, add);
  onEnter(value.el, add);
  return h("tfoot", {}, h("tr", {}, h("td", {}, key), h("td", {}, value.el), h("td", {}, button)));
}

/** A model: a fieldset with a labelled row per field. */
export function objectEditor(field: Field & { kind: "object" }, ctx: EditContext, make: MakeEditor): Editor {
  let current: Record<string, unknown> | null = null;
  const rows = field.props.map((prop) =>
    labelledRow(make, prop.field, {
      key: prop.name,
      label: prop.label,
      help: prop.help,
      readOnly: ctx.readOnly,
      attrs: { "data-nb-field": prop.name },
      onEdit: (value, final) => {
        if (value === undefined) return;
        const next = { ...(current ?? {}), [prop.name]: value };
        ctx.onEdit(next, final);
        show(next);
      },
    }),
  );
  const none = h("div", { class: "nbstate-none" }, "—");
  const fieldset = h(
    "fieldset",
    { ...ctx.attrs, id: ctx.id, class: "nbstate-object", "aria-describedby": ctx.describedBy },
    h("legend", { class: "nbstate-label" }, ctx.name),
    none,
    ...rows.map((r) => r.row),
  );
  if (!ctx.readOnly && field.nullable) {
    const create = h("button", { type: "button", class: "nbstate-add-button" }, `Fill in ${ctx.name}`);
    create.addEventListener("click", () => {
      const next = emptyValue({ ...field, nullable: false });
      ctx.onEdit(next, true);
      show(next);
    });
    none.append(" ", create);
  }
  function show(value: unknown) {
    current = isObject(value) ? value : null;
    none.hidden = current !== null;
    for (const [i, prop] of field.props.entries()) {
      const row = rows[i];
      if (!row) continue;
      row.row.hidden = current === null;
      if (current !== null) row.editor.show(current[prop.name]);
    }
  }
  return { el: fieldset, show };
}

/** Run `action` on Enter in `el` (or in an input inside it) instead of submitting a form. */
export function onEnter(el: HTMLElement, action: () => void): void {
  el.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || (event.target as HTMLElement).tagName === "TEXTAREA") return;
    event.preventDefault();
    action();
  });
}
