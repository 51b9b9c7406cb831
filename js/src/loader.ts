/**
 * The per-state `_esm` (bundled as `nbstate/static/loader.js`): kept tiny because every comm_open
 * carries it. It fetches the runtime bundle once per page, over the first model's comm, and
 * delegates `initialize` and `render` to it.
 *
 * `initialize` must not wait for the kernel: anywidget holds every comm message of the model
 * until `initialize` returns (and gives up after 2 s), and the runtime itself arrives as one. So
 * it only starts the fetch and holds this model's custom messages, which the runtime handles
 * first once loaded. `render` waits for the runtime.
 */

import { PROTOCOL_VERSION } from "./protocol";
import type * as Runtime from "./jupyter/runtime";
import type { AnyModel } from "./jupyter/widget";
import { importSource } from "./view/import_source";

type Handler = (...args: never[]) => void;
const KEY = `__nbstate_runtime_v${PROTOCOL_VERSION}`;
const page = globalThis as unknown as Record<string, Promise<typeof Runtime> | undefined>;
const closed = new WeakSet<AnyModel>();

/** Ask the kernel for the runtime over `model`'s comm and import it. */
function fetchRuntime(model: AnyModel): Promise<typeof Runtime> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string; source?: string }) => {
      if (message?.type !== "runtime") return;
      stop();
      importSource<typeof Runtime>(message.source ?? "").then(resolve, reject);
    };
    const onClose = () => {
      closed.add(model);
      stop();
      reject(new Error("nbstate: the comm closed before the runtime arrived"));
    };
    const stop = () => {
      model.off("msg:custom", onMessage as Handler);
      model.off("comm:close", onClose);
    };
    model.on("msg:custom", onMessage as Handler);
    model.on("comm:close", onClose);
    model.send({ type: "runtime_request" });
  });
}

/** The page's runtime. A failed fetch is forgotten and retried once, over this model's comm. */
function runtime(model: AnyModel, retry = true): Promise<typeof Runtime> {
  let promise = page[KEY];
  if (!promise) {
    promise = page[KEY] = fetchRuntime(model);
    promise.catch(() => {
      if (page[KEY] === promise) delete page[KEY];
    });
  }
  return retry ? promise.catch((error: unknown) => (closed.has(model) ? Promise.reject(error) : runtime(model, false))) : promise;
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
    const rt = await runtime(model);
    el.textContent = "";
    return rt.render({ model, el });
  },
};
