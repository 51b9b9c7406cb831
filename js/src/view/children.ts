/**
 * The substates of a default view: one `div.nbstate-child[data-nb-child="IPY_MODEL_<id>"]` per
 * entry of `_nb_children`, each rendered by the host (the child's own default or user view).
 * Children that stay in the list keep their element and view across changes.
 */

import { h } from "./dom";
import type { Cleanup, ViewContext } from "./types";

interface Child {
  el: HTMLElement;
  cleanup?: Cleanup;
  removed: boolean;
}

export function mountChildren(ctx: ViewContext, container: HTMLElement): Cleanup {
  const children = new Map<string, Child>();

  const unmount = (child: Child) => {
    child.removed = true;
    child.cleanup?.();
    child.el.remove();
  };

  const sync = () => {
    const value = ctx.model.get("_nb_children");
    const refs = Array.isArray(value) ? value.filter((r): r is string => typeof r === "string") : [];
    for (const [ref, child] of children) {
      if (!refs.includes(ref)) {
        unmount(child);
        children.delete(ref);
      }
    }
    for (const ref of refs) {
      let child = children.get(ref);
      if (!child) {
        const created: Child = { el: h("div", { class: "nbstate-child", "data-nb-child": ref }), removed: false };
        ctx.mountChild(ref, created.el).then(
          (cleanup) => (created.removed ? cleanup() : (created.cleanup = cleanup)),
          (error: unknown) => {
            created.el.textContent = `nbstate: could not show substate ${ref}: ${String(error)}`;
          },
        );
        children.set(ref, created);
        child = created;
      }
      container.append(child.el); // appending in list order also reorders
    }
    container.hidden = refs.length === 0;
  };

  sync();
  ctx.model.on("change:_nb_children", sync);
  return () => {
    ctx.model.off("change:_nb_children", sync);
    for (const child of children.values()) unmount(child);
    children.clear();
  };
}
