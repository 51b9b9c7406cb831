/**
 * The per-state `_esm` (bundled as `nbstate/static/loader.js`): kept tiny because every comm_open
 * carries it. It loads the runtime bundle once per page and delegates `initialize` and `render`
 * to it.
 *
 * The runtime's source is the `source` trait of one model per kernel, which every state model
 * names in its `_nb_runtime` trait (`"IPY_MODEL_<id>"`): it is reached with
 * `widget_manager.get_model`, so a page rendered from saved widget state (nbconvert HTML,
 * nbviewer, a notebook reopened without a kernel) has it too, and the kernel sends it once, not
 * once per state. A model without `_nb_runtime` (or a host without `widget_manager`) asks the
 * kernel over its comm instead (`runtime_request`).
 *
 * `initialize` must not wait for the runtime: anywidget holds every comm message of the model
 * until `initialize` returns (and gives up after 2 s). So it only starts the load and holds this
 * model's custom messages, which the runtime handles first once loaded. `render` waits for it.
 */

import { PROTOCOL_VERSION } from "./protocol";
import type * as Runtime from "./jupyter/runtime";
import type { AnyModel } from "./jupyter/widget";
import { importSource } from "./view/import_source";

type Handler = (...args: never[]) => void;
const KEY = `__nbstate_runtime_v${PROTOCOL_VERSION}`;
const page = globalThis as unknown as Record<string, Promise<typeof Runtime> | undefined>;

/** The runtime's source: from the model `_nb_runtime` names, else asked over `model`'s comm. */
async function runtimeSource(model: AnyModel): Promise<string> {
  const ref = model.get("_nb_runtime");
  if (typeof ref === "string" && ref && model.widget_manager) {
    const holder = await model.widget_manager.get_model(ref.replace("IPY_MODEL_", ""));
    const source = holder?.get("source");
    if (typeof source === "string") return source;
  }
  return new Promise((resolve) => {
    const onMessage = (message: { type?: string; source?: string }) => {
      if (message?.type !== "runtime") return;
      model.off("msg:custom", onMessage as Handler);
      resolve(message.source ?? "");
    };
    model.on("msg:custom", onMessage as Handler);
    model.send?.({ type: "runtime_request" });
  });
}

/** The page's runtime. A failed load is forgotten, so the next model tries again. */
function runtime(model: AnyModel): Promise<typeof Runtime> {
  let promise = page[KEY];
  if (!promise) {
    promise = page[KEY] = runtimeSource(model).then((source) => importSource<typeof Runtime>(source));
    promise.catch(() => {
      if (page[KEY] === promise) delete page[KEY];
    });
  }
  return promise;
}

export default {
  initialize({ model }: { model: AnyModel }): void {
    const held: unknown[] = [];
    const hold = (message: unknown) => held.push(message);
    model.on("msg:custom", hold as Handler);
    runtime(model)
      .then((rt) => {
        rt.initialize({ model, messages: held });
        model.off("msg:custom", hold as Handler);
      })
      .catch(console.error);
  },

  async render({ model, el }: { model: AnyModel; el: HTMLElement }): Promise<() => void> {
    el.textContent = "Loading nbstate…";
    const rt = await runtime(model).catch(() => runtime(model));
    el.textContent = "";
    return rt.render({ model, el });
  },
};
