/**
 * A list of models as a table: a column per field, a row per item. Where the list is writable
 * each cell is the field's editor (named "<field>, row <n>"), each row has a remove button and
 * an add button appends an item of the fields' defaults; read-only, the cells are text.
 *
 * DOM: `table.nbstate-table[data-nb-var]` > `thead` (`th` per field, titled with its help) and
 * `tbody` (`tr[data-nb-index]` > `td[data-nb-cell="<field>"]`, `td` > `button[data-nb-remove]`),
 * then `button[data-nb-add]`. Rows are updated in place: a cell being typed in keeps its focus.
 */

import { isObject } from "../core/json";
import { h, srOnly, uid } from "./dom";
import type { EditContext, Editor, MakeEditor } from "./editor";
import { emptyValue, type Field } from "./schema";
import { groupName } from "./structured";

interface TableRow {
  tr: HTMLTableRowElement;
  cells: Editor[];
}

export function tableEditor(item: Field & { kind: "object" }, ctx: EditContext, make: MakeEditor): Editor {
  let current: unknown[] = [];
  const rows: TableRow[] = [];
  const columns = item.props;
  const head = h("tr", {}, ...columns.map((prop) => h("th", { scope: "col", title: prop.help }, prop.label)));
  if (!ctx.readOnly) head.append(h("th", { scope: "col" }, srOnly("Remove")));
  const body = h("tbody");
  const empty = h("tr", { class: "nbstate-empty" }, h("td", { colspan: columns.length + (ctx.readOnly ? 0 : 1) }, "(no rows)"));
  const table = h("table", { ...ctx.attrs, ...groupName(ctx), id: ctx.id, class: "nbstate-table" }, h("thead", {}, head), body);

  const edit = (index: number, field: string, value: unknown, final: boolean) => {
    if (value === undefined) return;
    const next = current.slice();
    const row = next[index];
    next[index] = { ...(isObject(row) ? row : {}), [field]: value };
    commit(next, final);
  };
  // An edit shows at once: a second one before the kernel's echo builds on the first.
  const commit = (next: unknown[], final: boolean) => {
    ctx.onEdit(next, final);
    show(next);
  };

  const makeRow = (index: number): TableRow => {
    const cells = columns.map((prop) =>
      make(prop.field, {
        id: uid(`${prop.name}-${index}`),
        name: `${prop.label}, row ${index + 1}`,
        labelled: false,
        readOnly: ctx.readOnly,
        attrs: {},
        onEdit: (value, final) => edit(index, prop.name, value, final),
      }),
    );
    const tr = h("tr", { "data-nb-index": index }, ...cells.map((cell, i) => h("td", { "data-nb-cell": columns[i]?.name }, cell.el)));
    if (!ctx.readOnly) {
      const remove = h("button", { type: "button", class: "nbstate-remove", "data-nb-remove": index, "aria-label": `Remove row ${index + 1}` }, "×");
      remove.addEventListener("click", () => commit(current.filter((_, i) => i !== index), true));
      tr.append(h("td", {}, remove));
    }
    return { tr, cells };
  };

  function show(value: unknown) {
    current = Array.isArray(value) ? value : [];
    while (rows.length > current.length) rows.pop()?.tr.remove();
    while (rows.length < current.length) {
      const row = makeRow(rows.length);
      rows.push(row);
      body.append(row.tr);
    }
    for (const [index, row] of rows.entries()) {
      const entry = current[index];
      for (const [i, prop] of columns.entries()) row.cells[i]?.show(isObject(entry) ? entry[prop.name] : undefined);
    }
    if (current.length === 0) body.append(empty);
    else empty.remove();
  }
  if (ctx.readOnly) return { el: table, show };

  const name = ctx.attrs["data-nb-var"] ?? ctx.attrs.name ?? ctx.id;
  const add = h("button", { type: "button", class: "nbstate-add-button", "data-nb-add": name }, `Add a row to ${ctx.name}`);
  add.addEventListener("click", () => commit([...current, emptyValue({ ...item, nullable: false })], true));
  return { el: h("div", { class: "nbstate-array" }, table, add), show };
}
