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

const MODEL_PREFIX = "IPY_MODEL_";

export function mountView(binding: ModelBinding, el: HTMLElement): Cleanup {
  const { model } = binding;
  let current: Cleanup = () => {};
  let generation = 0;
  const remount = () => {
    current();
    current = () => {};
    el.replaceChildren();
    const mine = ++generation;
    const source = model.get("_nb_view");
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
  const context = {};
  model.on("change:_nb_view", remount, context);
  remount();
  return () => {
    generation++;
    model.off("change:_nb_view", remount, context);
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
  const id = ref.startsWith(MODEL_PREFIX) ? ref.slice(MODEL_PREFIX.length) : ref;
  const child = await parent.model.widget_manager.get_model(id);
  if (!child) throw new Error(`no widget model ${id}`);
  return mountView(bindingFor(child), el);
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
