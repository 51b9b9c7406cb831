// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from "vitest";
import { initialize, render } from "../src/jupyter/runtime";
import { BUSY_STYLE_DELAY_MS } from "../src/view/default_view";
import { anywidgetProxy, kernelModel, settle, type Kernel } from "./support/widgets";

const user = vi.hoisted(() => ({ modules: new Map<string, Record<string, unknown>>() }));
vi.mock("../src/view/import_source", () => ({
  importSource: async (source: string) => user.modules.get(source) ?? {},
}));
const { loadViewModule } = await import("../src/view/esm");

const TODO_SPEC = {
  protocol: 1,
  path: "todo",
  title: "Todo",
  vars: [
    { name: "draft", kind: "base", schema: { type: "string" } },
    { name: "urgent", kind: "base", schema: { type: "boolean" } },
    { name: "count", kind: "base", schema: { type: "integer" } },
    { name: "ratio", kind: "base", schema: { anyOf: [{ type: "number" }, { type: "null" }] } },
    {
      name: "color",
      kind: "base",
      schema: { $ref: "#/$defs/Color", $defs: { Color: { enum: ["red", "green"], title: "Color", type: "string" } } },
    },
    { name: "items", kind: "base", schema: { type: "array", items: { type: "string" } } },
    { name: "meta", kind: "base", schema: { type: "object" } },
    { name: "remaining", kind: "computed", schema: { type: "integer" } },
    { name: "matches", kind: "computed", schema: { type: "array", items: { type: "string" } } },
  ],
  handlers: [
    { name: "add", doc: "Add the draft.", background: false, params: [] },
    {
      name: "import_many",
      doc: "",
      background: true,
      params: [
        { name: "n", required: true, schema: { type: "integer" } },
        { name: "prefix", required: false, default: "item", schema: { type: "string" } },
        { name: "shout", required: false, default: false, schema: { type: "boolean" } },
        { name: "size", required: false, default: "s", schema: { enum: ["s", "m"], type: "string" } },
      ],
    },
    { name: "configure", doc: "", background: false, params: [{ name: "opts", required: true, schema: { type: "object" } }] },
  ],
};

const STATE = {
  draft: "milk",
  urgent: true,
  count: 3,
  ratio: null,
  color: "green",
  items: ["a", "b"],
  meta: { k: 1 },
  remaining: 2,
  matches: ["a"],
};

/** The context anywidget registers `initialize`'s listeners under (the runtime's own). */
const INITIALIZE = {};

function mount(state: Record<string, unknown> = {}): Kernel & { el: HTMLElement; cleanup: () => void } {
  const kernel = kernelModel({ _nb_spec: TODO_SPEC, _nb_view: "", _nb_children: [], ...STATE, ...state });
  const el = document.createElement("div");
  document.body.append(el);
  initialize({ model: anywidgetProxy(kernel.model, INITIALIZE) });
  const cleanup = render({ model: anywidgetProxy(kernel.model), el });
  return { ...kernel, el, cleanup };
}

const $ = <T extends Element = HTMLElement>(root: ParentNode, selector: string) => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found;
};

beforeEach(() => {
  document.body.replaceChildren();
  user.modules.clear();
});

describe("the default view", () => {
  it("renders a control of the right kind per var", () => {
    const { el } = mount();
    const root = $(el, ".nbstate-view");
    expect(root.dataset.nbPath).toBe("todo");
    expect($(root, ".nbstate-title").textContent).toBe("Todo");
    expect($<HTMLInputElement>(root, 'input[data-nb-var="draft"]').type).toBe("text");
    expect($<HTMLInputElement>(root, 'input[data-nb-var="draft"]').value).toBe("milk");
    expect($<HTMLInputElement>(root, 'input[data-nb-var="urgent"]').checked).toBe(true);
    expect($<HTMLInputElement>(root, 'input[data-nb-var="count"]').type).toBe("number");
    expect($<HTMLInputElement>(root, 'input[data-nb-var="count"]').value).toBe("3");
    expect($<HTMLInputElement>(root, 'input[data-nb-var="ratio"]').value).toBe("");
    const color = $<HTMLSelectElement>(root, 'select[data-nb-var="color"]');
    expect([...color.options].map((o) => o.textContent)).toEqual(["red", "green"]);
    expect(color.selectedIndex).toBe(1);
    expect([...root.querySelectorAll('ul[data-nb-var="items"] li')].map((li) => li.firstChild?.textContent)).toEqual(["a", "b"]);
    expect(JSON.parse($<HTMLTextAreaElement>(root, 'textarea[data-nb-var="meta"]').value)).toEqual({ k: 1 });
    expect($(root, '[data-nb-var="remaining"][data-nb-kind="computed"]').textContent).toBe("2");
    expect([...root.querySelectorAll('ul[data-nb-var="matches"][data-nb-kind="computed"] li')].map((li) => li.textContent)).toEqual(["a"]);
    expect($<HTMLElement>(root, "[data-nb-error]").hidden).toBe(true);
  });

  it("renders handlers as buttons, or forms with an editor per param", () => {
    const { el } = mount();
    expect($(el, 'button[data-nb-handler="add"]').textContent).toBe("add");
    const form = $<HTMLFormElement>(el, 'form[data-nb-handler="import_many"]');
    expect($<HTMLInputElement>(form, 'input[name="n"]').type).toBe("number");
    expect($<HTMLInputElement>(form, 'input[name="prefix"]').value).toBe("item");
    expect($<HTMLInputElement>(form, 'input[name="shout"]').type).toBe("checkbox");
    expect($<HTMLSelectElement>(form, 'select[name="size"]').selectedIndex).toBe(0);
    // a param no other editor fits takes JSON text
    expect($<HTMLTextAreaElement>(el, 'form[data-nb-handler="configure"] textarea[name="opts"]').value).toBe("");
  });

  it("updates live on kernel changes and patches", async () => {
    const k = mount();
    await k.update({ draft: "bread", remaining: 5 });
    await k.message({ type: "patch", rev: 1, ops: [{ op: "add", path: "/matches/-", value: "b" }] });
    await settle();
    expect($<HTMLInputElement>(k.el, '[data-nb-var="draft"]').value).toBe("bread");
    expect($(k.el, '[data-nb-var="remaining"]').textContent).toBe("5");
    expect(k.el.querySelectorAll('[data-nb-var="matches"] li')).toHaveLength(2);
  });

  it("sets text locally on input and sends the set on change, before any event", async () => {
    const k = mount();
    const input = $<HTMLInputElement>(k.el, '[data-nb-var="draft"]');
    input.value = "cheese";
    input.dispatchEvent(new Event("input"));
    expect(k.custom).toEqual([]);
    $(k.el, '[data-nb-handler="add"]').click();
    expect(k.custom).toMatchObject([
      { type: "set", var: "draft", value: "cheese" },
      { type: "event", handler: "add", payload: {} },
    ]);
    const checkbox = $<HTMLInputElement>(k.el, '[data-nb-var="urgent"]');
    checkbox.click();
    expect(k.custom.at(-1)).toMatchObject({ type: "set", var: "urgent", value: false });
  });

  it("edits lists of strings", () => {
    const k = mount();
    $(k.el, '[data-nb-var="items"] li:first-child button[data-nb-remove]').click();
    expect(k.custom.at(-1)).toMatchObject({ type: "set", var: "items", value: ["b"] });
    const add = $<HTMLInputElement>(k.el, '[data-nb-add="items"]');
    add.value = "c";
    add.dispatchEvent(new Event("input"));
    add.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(k.custom.at(-1)).toMatchObject({ type: "set", var: "items", value: ["b", "c"] });
  });

  it("shows a running handler as busy until done", async () => {
    const k = mount();
    const button = $(k.el, '[data-nb-handler="add"]');
    button.click();
    expect(button.getAttribute("aria-busy")).toBe("true");
    expect(button.dataset.nbRunning).toBe("true");
    expect($(k.el, ".nbstate-view").classList.contains("nbstate-busy")).toBe(true);
    await k.message({ type: "done", id: k.custom[0]?.id });
    await settle();
    expect(button.hasAttribute("aria-busy")).toBe(false);
    expect(button.hasAttribute("data-nb-running")).toBe(false);
    expect($(k.el, ".nbstate-view").classList.contains("nbstate-busy")).toBe(false);
  });

  it("styles running handlers as busy only once they have run for a while", async () => {
    vi.useFakeTimers();
    try {
      const k = mount();
      const root = $(k.el, ".nbstate-view");
      const button = $(k.el, '[data-nb-handler="add"]');
      button.click();
      await vi.advanceTimersByTimeAsync(BUSY_STYLE_DELAY_MS - 1);
      expect(root.classList.contains("nbstate-busy-shown")).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(root.classList.contains("nbstate-busy-shown")).toBe(true);
      await k.message({ type: "done", id: k.custom[0]?.id });
      await vi.advanceTimersByTimeAsync(0);
      expect(root.classList.contains("nbstate-busy-shown")).toBe(false);
      expect(root.classList.contains("nbstate-busy")).toBe(false);

      // Answered within the delay: never shown, and no timer is left to show it later.
      button.click();
      await k.message({ type: "done", id: k.custom[1]?.id });
      await vi.advanceTimersByTimeAsync(10 * BUSY_STYLE_DELAY_MS);
      expect(root.classList.contains("nbstate-busy-shown")).toBe(false);
      expect(button.hasAttribute("aria-busy")).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keys every busy style on .nbstate-busy-shown", () => {
    mount();
    const rules = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules]) as CSSStyleRule[];
    const busy = rules.filter((rule) => /busy|running/.test(rule.selectorText ?? ""));
    expect(busy.length).toBeGreaterThan(0);
    for (const rule of busy) expect(rule.selectorText).toMatch(/^\.nbstate-busy-shown\b/);
  });

  it("puts the event on the wire before it marks the button busy", () => {
    const k = mount();
    const button = $(k.el, '[data-nb-handler="add"]');
    const push = k.custom.push.bind(k.custom);
    const busyWhenSent: boolean[] = [];
    k.custom.push = (...items) => {
      busyWhenSent.push(button.hasAttribute("aria-busy"));
      return push(...items);
    };
    button.click();
    expect(busyWhenSent).toEqual([false]);
    expect(button.getAttribute("aria-busy")).toBe("true");
  });

  it("leaves the error box alone when a handler succeeds and there was no error", async () => {
    const k = mount();
    const error = $<HTMLElement>(k.el, "[data-nb-error]");
    const records: MutationRecord[] = [];
    const observer = new MutationObserver((found) => records.push(...found));
    observer.observe(error, { attributes: true, childList: true, characterData: true, subtree: true });
    $(k.el, '[data-nb-handler="add"]').click();
    await k.message({ type: "done", id: k.custom[0]?.id });
    await settle();
    records.push(...observer.takeRecords());
    observer.disconnect();
    expect(records).toEqual([]);
    expect(error.hidden).toBe(true);
  });

  it("submits a form with typed params and shows errors until their handler succeeds", async () => {
    const k = mount();
    const form = $<HTMLFormElement>(k.el, 'form[data-nb-handler="import_many"]');
    const n = $<HTMLInputElement>(form, 'input[name="n"]');
    n.value = "4";
    n.dispatchEvent(new Event("change"));
    const size = $<HTMLSelectElement>(form, 'select[name="size"]');
    size.selectedIndex = 1;
    size.dispatchEvent(new Event("change"));
    form.requestSubmit();
    expect(k.custom[0]).toMatchObject({ type: "event", handler: "import_many", payload: { n: 4, prefix: "item", shout: false, size: "m" } });
    expect(form.getAttribute("aria-busy")).toBe("true");
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    await k.message({ type: "error", id: k.custom[0]?.id, error: { handler: "todo.import_many", type: "ValueError", message: "n too big" } });
    await settle();
    const error = $<HTMLElement>(k.el, "[data-nb-error]");
    const texts = () => [...error.querySelectorAll(".nbstate-error-text")].map((e) => e.textContent);
    expect(error.hidden).toBe(false);
    expect(error.getAttribute("role")).toBe("alert");
    expect(texts()).toEqual(["todo.import_many: ValueError: n too big"]);
    expect(form.hasAttribute("aria-busy")).toBe(false);
    expect(n.value).toBe("4"); // kept, to be fixed

    await k.message({ type: "error", id: null, error: { handler: "todo.sync", type: "RuntimeError", message: "bg" } });
    await settle();
    expect(texts()).toEqual(["todo.import_many: ValueError: n too big", "todo.sync: RuntimeError: bg"]);
    log.mockRestore();

    $(k.el, '[data-nb-handler="add"]').click(); // another handler's success
    await k.message({ type: "done", id: k.custom[1]?.id });
    await settle();
    expect(texts()).toHaveLength(2);
    form.requestSubmit();
    await k.message({ type: "done", id: k.custom[2]?.id });
    await settle();
    expect(texts()).toEqual(["todo.sync: RuntimeError: bg"]);
    expect(n.value).toBe(""); // the form is back to its defaults
  });

  it("renders child substates nested, with their own views", async () => {
    const child = kernelModel({
      _nb_spec: { protocol: 1, path: "todo.filters", title: "Filters", vars: [{ name: "query", kind: "base", schema: { type: "string" } }], handlers: [] },
      _nb_view: "",
      _nb_children: [],
      query: "a",
    });
    initialize({ model: anywidgetProxy(child.model) });
    const k = mount({ _nb_children: [`IPY_MODEL_${child.model.model_id}`] });
    await settle();
    const nested = $(k.el, '.nbstate-children [data-nb-path="todo.filters"]');
    expect($<HTMLInputElement>(nested, '[data-nb-var="query"]').value).toBe("a");
    $<HTMLInputElement>(nested, '[data-nb-var="query"]').value = "b";
    $<HTMLInputElement>(nested, '[data-nb-var="query"]').dispatchEvent(new Event("input"));
    $<HTMLInputElement>(nested, '[data-nb-var="query"]').dispatchEvent(new Event("change"));
    expect(child.custom).toMatchObject([{ type: "set", var: "query", value: "b" }]);
    expect(k.custom).toEqual([]);
    await k.update({ _nb_children: [] });
    expect(k.el.querySelector('[data-nb-path="todo.filters"]')).toBeNull();
  });

  it("refuses a state of another protocol version", () => {
    const { el } = mount({ _nb_spec: { ...TODO_SPEC, protocol: 2 } });
    const error = $(el, ".nbstate-view [data-nb-error]");
    expect(error.textContent).toMatch(/protocol 2 .* protocol 1/);
    expect(el.querySelector("[data-nb-var], [data-nb-handler]")).toBeNull();
  });

  it("injects its stylesheet once", () => {
    mount();
    mount();
    expect(document.querySelectorAll("style#nbstate-style")).toHaveLength(1);
  });

  it("removes its DOM and listeners on cleanup", async () => {
    const k = mount();
    k.cleanup();
    expect(k.el.childNodes).toHaveLength(0);
    // What stays is the runtime's own listening, registered by `initialize`.
    const events = (k.model as unknown as { _events: Record<string, { context: unknown }[]> })._events;
    const left = Object.entries(events).filter(([, list]) => list.some((l) => l.context !== INITIALIZE));
    expect(left.map(([event]) => event)).toEqual([]);
  });
});

describe("user views (_nb_view)", () => {
  it("imports the module once per source, initializes once per model, renders per view", async () => {
    const calls: string[] = [];
    const source = "export default { initialize, render }";
    user.modules.set(source, {
      default: {
        initialize: ({ model }: { model: { get(n: string): unknown } }) => void calls.push(`init ${String(model.get("draft"))}`),
        render: ({ model, el }: { model: { get(n: string): unknown; on(e: string, cb: () => void): void; fire(h: string): Promise<void> }; el: HTMLElement }) => {
          calls.push("render");
          el.textContent = String(model.get("draft"));
          model.on("change:draft", () => (el.textContent = String(model.get("draft"))));
          void model.fire("add");
          return () => calls.push("cleanup");
        },
      },
    });
    const k = kernelModel({ _nb_spec: TODO_SPEC, _nb_view: source, _nb_children: [], ...STATE });
    initialize({ model: anywidgetProxy(k.model) });
    const el1 = document.createElement("div");
    const el2 = document.createElement("div");
    const c1 = render({ model: anywidgetProxy(k.model), el: el1 });
    render({ model: anywidgetProxy(k.model), el: el2 });
    await settle();
    expect(calls).toEqual(["init milk", "render", "render"]);
    expect(el1.textContent).toBe("milk");
    expect(k.custom).toMatchObject([{ type: "event", handler: "add" }, { type: "event", handler: "add" }]);
    await k.update({ draft: "tea" });
    expect(el2.textContent).toBe("tea");
    c1();
    expect(calls.at(-1)).toBe("cleanup");
    await k.update({ draft: "jam" });
    expect(el1.textContent).toBe("");
    expect(el2.textContent).toBe("jam");
    expect(await loadViewModule(source)).toBe(await loadViewModule(source));
  });

  it("switches between the default and a user view when _nb_view changes", async () => {
    const source = "export function render() {}";
    user.modules.set(source, { render: ({ el }: { el: HTMLElement }) => void (el.textContent = "custom") });
    const k = mount();
    await k.update({ _nb_view: source });
    await settle();
    expect(k.el.textContent).toBe("custom");
    await k.update({ _nb_view: "" });
    expect(k.el.querySelector(".nbstate-view")).not.toBeNull();
  });
});
