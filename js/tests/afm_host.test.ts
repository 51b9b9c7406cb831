// @vitest-environment jsdom
/**
 * The runtime's behaviour in views, run twice: on ipywidgets' real `WidgetModel` behind
 * anywidget's proxy (JupyterLab, Notebook 7, Voila), and on a model with only the surface the
 * anywidget front-end module spec promises (`support/afm.ts`; marimo is such a host).
 *
 * Each case drives the runtime only through its entry points (`initialize`, `render`) and looks
 * only at what a view sees (the default view's DOM, the `model` a user view gets) and what goes
 * on the wire, so the same body holds for both hosts. Passing on ipywidgets shows each body is
 * right.
 *
 * The AFM-only model fails a case if the runtime calls anything the spec does not promise (it
 * has nothing else to call), or listens to an event such a host never fires (checked below).
 */
import { describe, expect, it, vi } from "vitest";
import { HandlerError } from "../src/core/client";
import { ANSWER_CHECK_MS, CONNECT_TIMEOUT_MS } from "../src/jupyter/connection";
import { initialize, render } from "../src/jupyter/runtime";
import type { AnyModel } from "../src/jupyter/widget";
import type { NbModel } from "../src/view/types";
import { afmModel } from "./support/afm";
import { anywidgetProxy, kernelModel, settle } from "./support/widgets";

const user = vi.hoisted(() => ({ modules: new Map<string, Record<string, unknown>>() }));
vi.mock("../src/view/import_source", () => ({
  importSource: async (source: string) => user.modules.get(source) ?? {},
}));

/** One model as a host gives it to the runtime, and the wire behind it. */
interface Host {
  id: string;
  /** What the host passes to `initialize` / `render` (anywidget makes a proxy per call). */
  model(): AnyModel;
  custom: Record<string, unknown>[];
  syncs: Record<string, unknown>[];
  /** The host's own `save_changes`, as another view or the host itself may call it. */
  save(): void;
  update(state: Record<string, unknown>): Promise<unknown>;
  message(content: unknown): Promise<unknown>;
}

type MakeHost = (state: Record<string, unknown>) => Host;

const ipywidgetsHost: MakeHost = (state) => {
  const k = kernelModel(state);
  return {
    id: k.model.model_id,
    model: () => anywidgetProxy(k.model),
    custom: k.custom,
    syncs: k.syncs,
    save: () => k.model.save_changes(),
    update: k.update,
    message: k.message,
  };
};

const afmHost: MakeHost = (state) => {
  const h = afmModel(state);
  return {
    id: h.id,
    model: () => h.model,
    custom: h.custom,
    syncs: h.syncs,
    save: () => h.model.save_changes(),
    update: h.update,
    message: h.message,
  };
};

const SPEC = {
  protocol: 1,
  path: "todo",
  title: "Todo",
  vars: [
    { name: "draft", kind: "base", schema: { type: "string" } },
    { name: "count", kind: "base", schema: { type: "integer" } },
    { name: "items", kind: "base", schema: { type: "array", items: { type: "string" } } },
  ],
  handlers: [{ name: "add", doc: "", background: false, params: [] }],
};
const STATE = { _nb_spec: SPEC, _nb_view: "", _nb_children: [], draft: "milk", count: 1, items: ["a"] };

let sources = 0;

/** A user view (`_nb_view`) that hands each rendered view's `model` to `seen`. */
function userView(seen: NbModel[]): string {
  const source = `export default { render } // ${++sources}`;
  user.modules.set(source, { default: { render: ({ model }: { model: NbModel }) => void seen.push(model) } });
  return source;
}

/** Initialize `host`'s model and render a user view into a new element; its `model` and cleanup. */
async function mountUser(host: Host, seen: NbModel[] = []): Promise<{ view: NbModel; cleanup: () => void }> {
  initialize({ model: host.model() });
  const cleanup = render({ model: host.model(), el: document.createElement("div") });
  await settle();
  const view = seen.at(-1);
  if (!view) throw new Error("the user view was not rendered");
  return { view, cleanup };
}

function userHost(make: MakeHost, state: Record<string, unknown> = {}): { host: Host; seen: NbModel[] } {
  const seen: NbModel[] = [];
  return { host: make({ ...STATE, _nb_view: userView(seen), ...state }), seen };
}

/** No var ever travels back as a trait sync, even when something calls save_changes. */
function expectNoEcho(host: Host): void {
  host.save();
  expect(host.syncs.filter((s) => Object.keys(s).length > 0)).toEqual([]);
}

function quietly<T>(run: () => Promise<T>): Promise<T> {
  const log = vi.spyOn(console, "error").mockImplementation(() => {});
  return run().finally(() => log.mockRestore());
}

const cases: [string, (make: MakeHost) => Promise<void>][] = [
  [
    "renders the default view with the model's values",
    async (make) => {
      const host = make(STATE);
      const el = document.createElement("div");
      initialize({ model: host.model() });
      render({ model: host.model(), el });
      await settle();
      expect(el.querySelector<HTMLInputElement>('input[data-nb-var="draft"]')?.value).toBe("milk");
      expect([...el.querySelectorAll('ul[data-nb-var="items"] li')].map((li) => li.firstChild?.textContent)).toEqual(["a"]);
    },
  ],
  [
    "applies kernel patches and updates and fires change events with the new values",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      const changes: unknown[] = [];
      view.on("change:items", () => changes.push(view.get("items")));
      view.on("change:count", () => changes.push(view.get("count")));
      view.on("change:draft", () => changes.push(view.get("draft")));
      await host.message({ type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: "b" }, { op: "replace", path: "/count", value: 2 }] });
      await settle();
      await host.update({ draft: "bread" });
      await settle();
      expect(changes).toEqual([["a", "b"], 2, "bread"]);
      expect([view.get("items"), view.get("count"), view.get("draft")]).toEqual([["a", "b"], 2, "bread"]);
      expectNoEcho(host);
    },
  ],
  [
    "applies a patch after a trait update the kernel sent before it",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      void host.update({ items: ["x", "y"] });
      void host.message({ type: "patch", rev: 2, ops: [{ op: "add", path: "/items/-", value: "z" }] });
      void host.update({ count: 5 });
      await settle();
      expect(view.get("items")).toEqual(["x", "y", "z"]);
      expect(view.get("count")).toBe(5);
      expectNoEcho(host);
    },
  ],
  [
    "shows a patch that does not apply as an error and keeps the value",
    async (make) => {
      const host = make(STATE);
      const el = document.createElement("div");
      initialize({ model: host.model() });
      render({ model: host.model(), el });
      await quietly(async () => {
        await host.message({ type: "patch", rev: 1, ops: [{ op: "remove", path: "/items/9" }] });
        await settle();
      });
      expect(el.querySelector("[data-nb-error]")?.textContent).toContain("PatchError");
      expect([...el.querySelectorAll('ul[data-nb-var="items"] li')]).toHaveLength(1);
    },
  ],
  [
    "sets optimistically and saves over custom messages, not trait syncs",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      const changes: unknown[] = [];
      view.on("change:draft", () => changes.push(view.get("draft")));
      view.set("draft", "eggs");
      expect(view.get("draft")).toBe("eggs");
      await settle();
      expect(changes).toEqual(["eggs"]);
      view.save_changes();
      expect(host.custom).toMatchObject([{ type: "set", var: "draft", value: "eggs" }]);
      expectNoEcho(host);
    },
  ],
  [
    "reverts a rejected set and fires change again",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      const changes: unknown[] = [];
      view.on("change:count", () => changes.push(view.get("count")));
      view.set("count", -1);
      view.save_changes();
      await settle();
      const id = host.custom[0]?.id;
      await quietly(async () => {
        await host.message({ type: "error", id, error: { handler: "todo.count", type: "ValidationError", message: "must be >= 0" } });
        await settle();
      });
      expect(view.get("count")).toBe(1);
      expect(changes).toEqual([-1, 1]);
      expectNoEcho(host);
    },
  ],
  [
    "fires events after pending sets and settles them on done and error",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      view.set("draft", "eggs");
      const added = view.fire("add", { urgent: true });
      expect(host.custom.map((m) => m.type)).toEqual(["set", "event"]);
      expect(host.custom[1]).toMatchObject({ handler: "add", payload: { urgent: true } });
      await host.message({ type: "done", id: host.custom[0]?.id });
      await host.message({ type: "done", id: host.custom[1]?.id });
      await expect(added).resolves.toBeUndefined();
      const failed = view.fire("add");
      await host.message({ type: "error", id: host.custom[2]?.id, error: { handler: "todo.add", type: "ValueError", message: "no" } });
      const error = await failed.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandlerError);
      expect((error as HandlerError).info.type).toBe("ValueError");
      expectNoEcho(host);
    },
  ],
  [
    "resolves fire only after the updates the handler sent",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      const fired = view.fire("add");
      void host.update({ items: ["a", "new"] });
      void host.message({ type: "done", id: host.custom[0]?.id });
      await fired;
      expect(view.get("items")).toEqual(["a", "new"]);
    },
  ],
  [
    "does not echo a var a listener sets during a kernel update",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      view.on("change:count", () => view.set("draft", `count is ${String(view.get("count"))}`));
      await host.update({ count: 7, items: ["q"] });
      await settle();
      expect(view.get("draft")).toBe("count is 7");
      expectNoEcho(host);
    },
  ],
  [
    "removes exactly a view's own listeners when it is removed",
    async (make) => {
      const { host, seen } = userHost(make);
      const first = await mountUser(host, seen);
      const second = await mountUser(host, seen);
      const mine = vi.fn();
      const theirs = vi.fn();
      first.view.on("change:count", mine);
      second.view.on("change:count", theirs);
      first.cleanup();
      await host.update({ count: 9 });
      await settle();
      expect(mine).not.toHaveBeenCalled();
      expect(theirs).toHaveBeenCalledOnce();
    },
  ],
  [
    "passes on custom messages that are not nbstate's",
    async (make) => {
      const { host, seen } = userHost(make);
      const { view } = await mountUser(host, seen);
      const got = vi.fn();
      view.on("msg:custom", got);
      await host.message({ type: "done", id: "nope" });
      await host.message({ hello: 1 });
      expect(got.mock.calls.map((call: unknown[]) => call[0])).toEqual([{ hello: 1 }]);
    },
  ],
  [
    "reads, listens to and sets a var carried by a renamed trait under its own name",
    async (make) => {
      const spec = { ...SPEC, vars: [{ name: "log", trait: "_nbvar_log", kind: "base", schema: {} }] };
      const { host, seen } = userHost(make, { _nb_spec: spec, _nbvar_log: ["start"] });
      const { view } = await mountUser(host, seen);
      expect(view.get("log")).toEqual(["start"]);
      const changes: unknown[] = [];
      view.on("change:log", () => changes.push(view.get("log")));
      await host.message({ type: "patch", rev: 1, ops: [{ op: "add", path: "/log/-", value: "next" }] });
      await settle();
      await host.update({ _nbvar_log: ["reset"] });
      await settle();
      expect(changes).toEqual([["start", "next"], ["reset"]]);
      view.set("log", []);
      view.save_changes();
      expect(host.custom.at(-1)).toMatchObject({ type: "set", var: "log", value: [] });
      expectNoEcho(host);
    },
  ],
  [
    "handles the messages the loader held before later ones, once each",
    async (make) => {
      const { host, seen } = userHost(make, { items: [] });
      const patch = (rev: number) => ({ type: "patch", rev, ops: [{ op: "add", path: "/items/-", value: rev }] });
      const [first, second, third] = [patch(1), patch(2), patch(3)];
      render({ model: host.model(), el: document.createElement("div") }); // before initialize
      initialize({ model: host.model(), messages: [first, second] });
      await host.message(third);
      initialize({ model: host.model(), messages: [second, third] }); // a hot reload replays some
      await settle();
      expect(seen.at(-1)?.get("items")).toEqual([1, 2, 3]);
    },
  ],
  [
    "renders child substates through widget_manager.get_model",
    async (make) => {
      const childSpec = { protocol: 1, path: "todo.filters", title: "Filters", vars: [{ name: "query", kind: "base", schema: { type: "string" } }], handlers: [] };
      const child = make({ _nb_spec: childSpec, _nb_view: "", _nb_children: [], query: "a" });
      initialize({ model: child.model() });
      const host = make({ ...STATE, _nb_children: [`IPY_MODEL_${child.id}`] });
      const el = document.createElement("div");
      initialize({ model: host.model() });
      render({ model: host.model(), el });
      await settle();
      const query = el.querySelector<HTMLInputElement>('.nbstate-children [data-nb-path="todo.filters"] [data-nb-var="query"]');
      expect(query?.value).toBe("a");
      await child.update({ query: "b" });
      await settle();
      expect(query?.value).toBe("b");
    },
  ],
];

describe.each([
  { host: "ipywidgets' WidgetModel behind anywidget's proxy", make: ipywidgetsHost },
  { host: "an AFM-only model", make: afmHost },
])("the runtime on $host", ({ make }) => {
  for (const [name, body] of cases) it(name, () => body(make));
});

describe("the runtime on an AFM-only model", () => {
  it("listens only to events an AFM host fires", async () => {
    const h = afmModel({ ...STATE });
    initialize({ model: h.model });
    const cleanup = render({ model: h.model, el: document.createElement("div") });
    await settle();
    expect(h.unsupported).toEqual([]);
    cleanup();
  });
});

describe("the AFM-only fake", () => {
  it("has exactly the AFM model surface", () => {
    const { model } = afmModel({ n: 1 });
    expect(Object.keys(model).sort()).toEqual(["get", "off", "on", "save_changes", "send", "set", "widget_manager"]);
    expect(Object.keys(model.widget_manager)).toEqual(["get_model"]);
    expect(Object.isFrozen(model)).toBe(true);
  });

  it("passes change listeners only the new value, and fires no other event", async () => {
    const h = afmModel({ n: 1 });
    const calls: unknown[][] = [];
    h.model.on("change:n", (...args: never[]) => void calls.push(args));
    h.model.on("all", (...args: never[]) => void calls.push(["all", ...args]));
    h.model.set("n", 2);
    await h.update({ n: 3 });
    await h.update({ n: 3 });
    expect(calls).toEqual([[2], [3]]);
    expect(h.unsupported).toEqual(["all"]);
  });

  it("sends the names set since the last save, and custom messages as they are", async () => {
    const h = afmModel({ n: 1, m: 1 });
    const got: unknown[][] = [];
    h.model.on("msg:custom", (...args: never[]) => void got.push(args));
    h.model.set("n", 2);
    h.model.save_changes();
    h.model.save_changes();
    h.model.send({ hi: 1 });
    await h.message({ back: 1 });
    expect(h.syncs).toEqual([{ n: 2 }]);
    expect(h.custom).toEqual([{ hi: 1 }]);
    expect(got).toEqual([[{ back: 1 }, []]]);
    h.model.off("msg:custom");
    expect(h.listeners()).toBe(0);
    expect(await h.model.widget_manager.get_model(h.id)).toBe(h.model);
  });
});

describe("the runtime without a kernel", () => {
  it("shows the last values read-only, with a note, when no kernel answers", async () => {
    vi.useFakeTimers();
    try {
      const h = afmModel({ ...STATE }, undefined, { answer: false });
      const el = document.createElement("div");
      initialize({ model: h.model });
      render({ model: h.model, el });
      await vi.advanceTimersByTimeAsync(10);
      const note = el.querySelector<HTMLElement>(".nbstate-offline");
      const controls = el.querySelector<HTMLFieldSetElement>("fieldset.nbstate-controls");
      expect(note?.hidden).toBe(true);
      expect(controls?.disabled).toBe(false);
      await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS);
      expect(h.pings).toBe(1);
      expect(el.querySelector<HTMLInputElement>('input[data-nb-var="draft"]')?.value).toBe("milk");
      expect(note?.hidden).toBe(false);
      expect(note?.textContent).toMatch(/kernel is not connected/);
      expect(controls?.disabled).toBe(true);
      // a kernel that was only busy comes back
      await h.message({ type: "pong" });
      expect(note?.hidden).toBe(true);
      expect(controls?.disabled).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers events and sets itself while offline, naming why", async () => {
    vi.useFakeTimers();
    try {
      const { host, seen } = userHost((state) => {
        const h = afmModel(state, undefined, { answer: false });
        return { id: h.id, model: () => h.model, custom: h.custom, syncs: h.syncs, save: () => h.model.save_changes(), update: h.update, message: h.message };
      });
      initialize({ model: host.model() });
      render({ model: host.model(), el: document.createElement("div") });
      await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS + 10);
      const view = seen.at(-1) as NbModel;
      const error = await quietly(() => view.fire("add").catch((e: unknown) => e));
      expect((error as HandlerError).info).toMatchObject({ handler: "add", type: "NotConnected" });
      await quietly(async () => {
        view.set("count", 5);
        view.save_changes();
        await vi.advanceTimersByTimeAsync(10);
      });
      expect(view.get("count")).toBe(1);
      expect(host.custom).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("fails the requests of a kernel that stops answering, not those of a busy one", async () => {
    vi.useFakeTimers();
    try {
      const answers = { answer: true };
      let pings = () => 0;
      const { host, seen } = userHost((state) => {
        const h = afmModel(state, undefined, answers);
        pings = () => h.pings;
        return { id: h.id, model: () => h.model, custom: h.custom, syncs: h.syncs, save: () => h.model.save_changes(), update: h.update, message: h.message };
      });
      const el = document.createElement("div");
      initialize({ model: host.model() });
      render({ model: host.model(), el });
      await vi.advanceTimersByTimeAsync(10);
      expect(pings()).toBe(1); // the probe, answered
      const view = seen.at(-1) as NbModel;
      let outcome: unknown = "waiting";
      const event = view.fire("add").then(() => "done", (error: unknown) => error);
      void event.then((value) => (outcome = value));
      // a kernel busy with a long handler still answers pings: the event keeps waiting
      await vi.advanceTimersByTimeAsync(ANSWER_CHECK_MS + CONNECT_TIMEOUT_MS + 10);
      expect(pings()).toBe(2);
      expect(outcome).toBe("waiting");
      // the kernel dies: the next ping goes unanswered and the event fails, saying why
      answers.answer = false;
      await quietly(() => vi.advanceTimersByTimeAsync(ANSWER_CHECK_MS + CONNECT_TIMEOUT_MS + 10));
      expect(pings()).toBe(3);
      expect(String(outcome)).toMatch(/kernel has not answered for \d+ s.*restart it/);
      expect(el.querySelector(".nbstate-offline")?.textContent).toMatch(/has not answered/);
      // a late answer is dropped; any message says the kernel is back
      await host.message({ type: "done", id: host.custom.at(-1)?.id });
      expect(el.querySelector<HTMLElement>(".nbstate-offline")?.hidden).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("says so when the host cannot send messages at all (Panel)", async () => {
    const h = afmModel({ ...STATE });
    const { send: _send, ...noSend } = h.model;
    const el = document.createElement("div");
    initialize({ model: noSend });
    render({ model: noSend, el });
    await settle();
    expect(el.querySelector(".nbstate-offline")?.textContent).toMatch(/cannot send messages/);
    expect(el.querySelector<HTMLFieldSetElement>("fieldset.nbstate-controls")?.disabled).toBe(true);
    expect(el.querySelector<HTMLInputElement>('input[data-nb-var="draft"]')?.value).toBe("milk");
  });

  it("shows a whole value re-sent after patches without firing change again", async () => {
    const { host, seen } = userHost(afmHost);
    const { view } = await mountUser(host, seen);
    const changes: unknown[] = [];
    view.on("change:items", () => changes.push(view.get("items")));
    await host.message({ type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: "b" }] });
    await host.update({ items: ["a", "b"] }); // the kernel brings the host's copy up to date
    await host.update({ items: ["a"] }); // then changes it back to the host's old value
    await settle();
    expect(changes).toEqual([["a", "b"], ["a"]]);
    expect(view.get("items")).toEqual(["a"]);
  });
});

describe("the runtime in a shadow root (marimo)", () => {
  it("gives the shadow root the default view's stylesheet", async () => {
    const h = afmModel({ ...STATE });
    const host = document.createElement("div");
    document.body.append(host);
    const shadow = host.attachShadow({ mode: "open" });
    const el = document.createElement("div");
    shadow.append(el);
    initialize({ model: h.model });
    render({ model: h.model, el });
    await settle();
    expect(shadow.getElementById("nbstate-style")).not.toBeNull();
    expect(shadow.querySelector('input[data-nb-var="draft"]')).not.toBeNull();
  });
});
