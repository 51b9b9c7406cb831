/**
 * Mounting a state's view into an element: the default view, or the user ESM in `_nb_view`,
 * switching live when `_nb_view` changes. Child substates mount the same way, recursively.
 *
 * A user module's `initialize` runs once per model and source; its `render` once per view.
 * Each gets its own `ModelFacade`, disposed (with every listener it added) on cleanup.
 */

import { renderDefaultView } from "../view/default_view";
import { loadViewModule, type ViewModule } from "../view/esm";
import { errorBox } from "../view/dom";
import type { Cleanup } from "../view/types";
import { bindingFor, type ModelBinding } from "./binding";
import { ModelFacade } from "./model";
import { modelId } from "./widget";

export function mountView(binding: ModelBinding, el: HTMLElement): Cleanup {
  let current: Cleanup = () => {};
  let generation = 0;
  const remount = () => {
    current();
    current = () => {};
    el.replaceChildren();
    const mine = ++generation;
    const source = binding.read("_nb_view");
    if (typeof source !== "string" || source === "") {
      current = mountDefault(binding, el);
      return;
    }
    loadViewModule(source)
      .then(async (module) => {
        await initializeOnce(binding, source, module);
        if (mine !== generation) return;
        const cleanup = await mountUser(binding, module, el);
        if (mine === generation) current = cleanup;
        else cleanup();
      })
      .catch((error: unknown) => {
        if (mine !== generation) return;
        console.error(error);
        el.replaceChildren(errorBox(`nbstate: the view failed: ${String(error)}`));
      });
  };
  binding.on("change:_nb_view", remount);
  remount();
  return () => {
    generation++;
    binding.off("change:_nb_view", remount);
    current();
    el.replaceChildren();
  };
}

function mountDefault(binding: ModelBinding, el: HTMLElement): Cleanup {
  const facade = new ModelFacade(binding);
  const cleanup = renderDefaultView({
    model: facade,
    el,
    mountChild: (ref, childEl) => mountChild(binding, ref, childEl),
  });
  return () => {
    cleanup();
    facade.dispose();
  };
}

async function mountChild(parent: ModelBinding, ref: string, el: HTMLElement): Promise<Cleanup> {
  const manager = parent.hostModel.widget_manager;
  if (!manager) throw new Error("this host gives no widget_manager to reach substates");
  const child = await manager.get_model(modelId(ref));
  if (!child) throw new Error(`no widget model ${modelId(ref)}`);
  const binding = bindingFor(child);
  // A host may create a model without running its module's `initialize` until it is displayed
  // on its own; the host's own model (not a proxy) can be listened to for good.
  if (!binding.listening) binding.listen(child, [], false);
  return mountView(binding, el);
}

async function mountUser(binding: ModelBinding, module: ViewModule, el: HTMLElement): Promise<Cleanup> {
  const facade = new ModelFacade(binding);
  try {
    const result = await module.render?.({ model: facade, el });
    return () => {
      facade.dispose();
      if (typeof result === "function") (result as () => void)();
    };
  } catch (error) {
    facade.dispose();
    throw error;
  }
}

const initialized = new WeakMap<ModelBinding, { source: string; done: Promise<void>; dispose: Cleanup }>();

/** Run the module's `initialize` for this model unless this source already did. */
function initializeOnce(binding: ModelBinding, source: string, module: ViewModule): Promise<void> {
  const previous = initialized.get(binding);
  if (previous?.source === source) return previous.done;
  previous?.dispose();
  const facade = new ModelFacade(binding);
  let cleanup: unknown;
  const done = Promise.resolve(module.initialize?.({ model: facade })).then((result) => {
    cleanup = result;
  });
  initialized.set(binding, {
    source,
    done,
    dispose: () => {
      facade.dispose();
      if (typeof cleanup === "function") (cleanup as () => void)();
    },
  });
  return done;
}
