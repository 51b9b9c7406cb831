/**
 * A default view on the runtime's own `StateClient` (its display rule, ordered sets and
 * events, reverts), with a store and a wire the test holds instead of a Jupyter comm: what the
 * view does, independent of the host it runs in.
 */

import { StateClient } from "../../src/core/client";
import type { ErrorInfo, EventMessage, SetMessage } from "../../src/protocol";
import { renderDefaultView } from "../../src/view/default_view";
import { ERROR_EVENT, type Listener, type NbModel, type ViewStateSpec } from "../../src/view/types";

export interface Harness {
  model: NbModel;
  el: HTMLElement;
  /** Every message the view sent, in order. */
  sent: (EventMessage | SetMessage)[];
  /** The kernel changes vars (a trait update): the store changes, then the view hears of it. */
  kernel(values: Record<string, unknown>): void;
  /** The kernel answers message `id` (`done`, or `error` with `error`). */
  answer(id: number, error?: Omit<ErrorInfo, "handler"> & { handler?: string }): void;
  /** An error no caller awaits (a rejected trait write, a background handler). */
  report(info: ErrorInfo): void;
  /** From now on nothing can be sent (the kernel restarted; the comm is gone). */
  disconnect(reason?: string): void;
  reconnect(): void;
  cleanup(): void;
  /** The last message sent, typed loosely for assertions. */
  last(): Record<string, unknown>;
}

export function mountView(spec: ViewStateSpec, values: Record<string, unknown>): Harness {
  const store: Record<string, unknown> = { _nb_spec: spec, ...values };
  const listeners = new Map<string, Set<Listener>>();
  const emit = (event: string, ...args: unknown[]) => {
    for (const cb of [...(listeners.get(event) ?? [])]) (cb as (...a: unknown[]) => void)(...args);
  };
  const sent: (EventMessage | SetMessage)[] = [];
  let broken: string | null = null;
  const client = new StateClient({
    store: {
      get: (name) => store[name],
      write: (changed) => {
        Object.assign(store, changed);
        for (const name of Object.keys(changed)) emit(`change:${name}`);
      },
    },
    send: (message) => {
      if (broken !== null) throw new Error(broken);
      sent.push(message);
    },
    onError: (info) => emit(ERROR_EVENT, info),
  });
  const model: NbModel = {
    get: (name) => client.value(name),
    set: (name, value) => client.set(name, value),
    save_changes: () => client.save(),
    on: (event, cb) => void (listeners.get(event) ?? listeners.set(event, new Set()).get(event))?.add(cb),
    off: (event, cb) => {
      if (event && cb) listeners.get(event)?.delete(cb);
    },
    send: () => {},
    fire: (handler, payload) => client.fire(handler, payload),
  };
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = renderDefaultView({ model, el, mountChild: async () => () => {} });
  return {
    model,
    el,
    sent,
    kernel(changed) {
      Object.assign(store, changed);
      for (const [name, value] of Object.entries(changed)) client.kernelChanged(name, value);
      for (const name of Object.keys(changed)) emit(`change:${name}`);
    },
    answer(id, error) {
      if (error) client.receive({ type: "error", id, error: { handler: `${spec.path}.?`, ...error } });
      else client.receive({ type: "done", id });
    },
    report: (info) => emit(ERROR_EVENT, info),
    disconnect(reason = "Cannot send") {
      broken = reason;
    },
    reconnect() {
      broken = null;
    },
    cleanup,
    last: () => (sent.at(-1) ?? {}) as unknown as Record<string, unknown>,
  };
}

/** Let queued microtasks and promise chains settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

export const $ = <T extends Element = HTMLElement>(root: ParentNode, selector: string): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found;
};

/** Type `text` into an input as a user would: one `input` event per character. */
export function type(input: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  for (const ch of text) {
    input.value += ch;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

/** Replace an input's text and commit it (`input`, then `change`, as on blur). */
export function enter(input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}
