/**
 * User views: `_nb_view` holds the source of an anywidget-style ES module, imported through a
 * Blob URL (as anywidget imports `_esm`) and cached per source text.
 *
 * Accepted shapes, as in anywidget: `export default { initialize?, render? }`, a default function
 * returning (a promise of) that object, or named `render` / `initialize` exports.
 */

import { importSource } from "./import_source";
import type { NbModel } from "./types";

export interface ViewModule {
  initialize?(ctx: { model: NbModel }): unknown;
  render?(ctx: { model: NbModel; el: HTMLElement }): unknown;
}

const modules = new Map<string, Promise<ViewModule>>();

export function loadViewModule(source: string): Promise<ViewModule> {
  let module = modules.get(source);
  if (!module) {
    module = importSource(source).then(normalize);
    modules.set(source, module);
    module.catch(() => modules.delete(source)); // a failed import may be retried
  }
  return module;
}

async function normalize(mod: Record<string, unknown>): Promise<ViewModule> {
  let def = mod.default;
  if (typeof def === "function") def = await (def as () => unknown)();
  if (typeof def === "object" && def !== null) return def as ViewModule;
  if (typeof mod.render === "function" || typeof mod.initialize === "function") return mod as ViewModule;
  throw new Error("nbstate: a view module must export default { render } or a render function");
}
