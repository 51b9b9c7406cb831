/**
 * One row per var in the default view: its label, the editor that fits its type, its help.
 *
 * Writable base vars are set as the user types: each edit sets the var locally at once (so the
 * view and `model.get` show it) and the sets are saved `TYPING_DEBOUNCE_MS` after the last
 * keystroke, or at once for a completed edit (blur, Enter, a checkbox, a select, a row
 * removed). A handler fired meanwhile sends the unsaved sets first, so they reach the kernel in
 * order with events. Read-only vars (computed, or declared read-only in the kernel) are shown
 * with no control that could change them. The main element of each editor carries
 * `data-nb-var="<name>"`; computed ones also `data-nb-kind="computed"`.
 */

import { labelledRow } from "./row";
import { makeEditor } from "./editor";
import { classify } from "./schema";
import type { NbModel, ViewVarSpec } from "./types";

/** How long after the last keystroke a typed value is sent. */
export const TYPING_DEBOUNCE_MS = 100;

export interface Control {
  /** The whole row (label, control, help). */
  row: HTMLElement;
  /** Show a new value of the var. */
  update(value: unknown): void;
  /** Send what is still waiting for the debounce, and stop. */
  dispose(): void;
}

export interface ControlHooks {
  /** The user edited the var (its error, if any, is now out of date). */
  edited(name: string): void;
  /** Saving failed before reaching the kernel (no connection). */
  failed(error: unknown): void;
}

export function varControl(model: NbModel, spec: ViewVarSpec, hooks: ControlHooks): Control {
  const readOnly = spec.kind === "computed" || spec.read_only === true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    clearTimeout(timer);
    timer = undefined;
    try {
      model.save_changes();
    } catch (error) {
      hooks.failed(error);
    }
  };
  const { row, editor } = labelledRow(makeEditor, classify(spec.schema), {
    key: spec.name,
    label: spec.label ?? spec.name,
    help: spec.help,
    readOnly,
    attrs: { "data-nb-var": spec.name, "data-nb-kind": spec.kind },
    onEdit: (value, final) => {
      if (value === undefined) return; // not a value yet: keep typing
      hooks.edited(spec.name);
      model.set(spec.name, value);
      if (final) save();
      else {
        clearTimeout(timer);
        timer = setTimeout(save, TYPING_DEBOUNCE_MS);
      }
    },
  });
  return {
    row,
    update: (value) => editor.show(value),
    dispose: () => {
      if (timer !== undefined) save();
    },
  };
}
