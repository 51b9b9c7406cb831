// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { HandlerError } from "../src/core/client";
import { bindingFor } from "../src/jupyter/binding";
import { ModelFacade } from "../src/jupyter/model";
import { initialize, render } from "../src/jupyter/runtime";
import { ERROR_EVENT } from "../src/view/types";
import { anywidgetProxy, kernelModel, settle, type Kernel } from "./support/widgets";

const SPEC = { protocol: 1, path: "todo", title: "Todo", vars: [], handlers: [] };

function todo(state: Record<string, unknown> = {}): Kernel & { facade: ModelFacade } {
  const kernel = kernelModel({ _nb_spec: { ...SPEC }, items: ["a"], draft: "", count: 1, ...state });
  initialize({ model: anywidgetProxy(kernel.model) });
  return { ...kernel, facade: new ModelFacade(bindingFor(kernel.model)) };
}

/** No var ever travels back as an ipywidgets trait sync, even when something calls save_changes. */
function expectNoEcho(k: Kernel) {
  k.model.save_changes();
  expect(k.syncs.filter((s) => Object.keys(s).length > 0)).toEqual([]);
}

describe("kernel patches", () => {
  it("apply immutably, fire change events, and are never echoed", async () => {
    const k = todo();
    const before = k.model.get("items");
    const seen: unknown[] = [];
    k.facade.on("change:items", () => seen.push(k.facade.get("items")));
    k.facade.on("change:count", () => seen.push(k.facade.get("count")));
    await k.message({ type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: "b" }, { op: "replace", path: "/count", value: 2 }] });
    await settle();
    expect(k.facade.get("items")).toEqual(["a", "b"]);
    expect(before).toEqual(["a"]);
    // The host model keeps the kernel's last whole value; the view's copy is the binding's.
    expect(k.model.get("items")).toBe(before);
    expect(seen).toEqual([["a", "b"], 2]);
    expectNoEcho(k);
  });

  it("apply after a trait update that arrived before them", async () => {
    const k = todo();
    // The kernel replaced the list, then appended to it: the update is still deserialising
    // (on model.state_change) when the custom message fires.
    void k.update({ items: ["x", "y"] });
    void k.message({ type: "patch", rev: 2, ops: [{ op: "add", path: "/items/-", value: "z" }] });
    void k.update({ count: 5 });
    await settle();
    expect(k.facade.get("items")).toEqual(["x", "y", "z"]);
    expect(k.facade.get("count")).toBe(5);
    expectNoEcho(k);
  });

  it("are not undone by an older whole value handled after them", async () => {
    const k = todo({ _nb_rev: 3 });
    const seen: unknown[] = [];
    k.facade.on("change:items", () => seen.push(k.facade.get("items")));
    await k.message({ type: "patch", rev: 5, ops: [{ op: "add", path: "/items/-", value: "b" }] });
    // whole values the kernel sent after a cell at revision 4, deserialised after the patch:
    // items was patched since and keeps what it shows; count was not, and takes the value
    await k.update({ items: ["a"], count: 0, _nb_rev: 4 });
    await settle();
    expect(k.facade.get("items")).toEqual(["a", "b"]);
    expect(k.facade.get("count")).toBe(0);
    // whole values of the last patch's revision or later are shown
    await k.update({ items: ["a", "b", "c"], _nb_rev: 5 });
    await settle();
    expect(k.facade.get("items")).toEqual(["a", "b", "c"]);
    expect(seen).toEqual([["a", "b"], ["a", "b", "c"]]);
  });

  it("report a patch that does not apply", async () => {
    const k = todo();
    const errors: unknown[] = [];
    k.facade.on(ERROR_EVENT, (info: never) => errors.push(info));
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    await k.message({ type: "patch", rev: 1, ops: [{ op: "remove", path: "/items/9" }] });
    await settle();
    log.mockRestore();
    expect(errors).toMatchObject([{ type: "PatchError" }]);
    expect(k.facade.get("items")).toEqual(["a"]);
  });
});

describe("the model facade", () => {
  it("sets optimistically and saves over custom messages, not trait syncs", async () => {
    const k = todo();
    const changes: unknown[] = [];
    k.facade.on("change:draft", () => changes.push(k.facade.get("draft")));
    k.facade.set("draft", "milk");
    expect(k.facade.get("draft")).toBe("milk");
    await settle();
    expect(changes).toEqual(["milk"]);
    k.facade.save_changes();
    expect(k.custom).toMatchObject([{ type: "set", var: "draft", value: "milk" }]);
    expectNoEcho(k);
  });

  it("reverts a rejected set and fires change again", async () => {
    const k = todo({ count: 1 });
    const changes: unknown[] = [];
    const errors: unknown[] = [];
    k.facade.on("change:count", () => changes.push(k.facade.get("count")));
    k.facade.on(ERROR_EVENT, (info: never) => errors.push(info));
    k.facade.set("count", -1);
    k.facade.save_changes();
    await settle();
    const id = k.custom[0]?.id;
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    await k.message({ type: "error", id, error: { handler: "todo.count", type: "ValidationError", message: "must be >= 0" } });
    await settle();
    log.mockRestore();
    expect(k.facade.get("count")).toBe(1);
    expect(changes).toEqual([-1, 1]);
    expect(errors).toMatchObject([{ type: "ValidationError" }]);
    expectNoEcho(k);
  });

  it("fires events after pending sets and settles them on done / error", async () => {
    const k = todo();
    k.facade.set("draft", "eggs");
    const added = k.facade.fire("add", { urgent: true });
    expect(k.custom.map((m) => m.type)).toEqual(["set", "event"]);
    expect(k.custom[1]).toMatchObject({ handler: "add", payload: { urgent: true } });
    await k.message({ type: "done", id: k.custom[0]?.id });
    await k.message({ type: "done", id: k.custom[1]?.id });
    await expect(added).resolves.toBeUndefined();

    const failed = k.facade.fire("add");
    await k.message({ type: "error", id: k.custom[2]?.id, error: { handler: "todo.add", type: "ValueError", message: "no" } });
    const error = await failed.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerError);
    expect((error as HandlerError).info.type).toBe("ValueError");
    expectNoEcho(k);
  });

  it("resolves fire only after the updates the handler sent", async () => {
    const k = todo();
    const fired = k.facade.fire("add");
    void k.update({ items: ["a", "new"] });
    void k.message({ type: "done", id: k.custom[0]?.id });
    await fired;
    expect(k.facade.get("items")).toEqual(["a", "new"]);
  });

  it("reads the new value inside change listeners, update after update", async () => {
    const k = todo();
    const seen: unknown[] = [];
    k.facade.on("change:draft", () => seen.push(k.facade.get("draft")));
    await k.update({ draft: "one" });
    await k.update({ draft: "two" });
    await k.message({ type: "patch", rev: 1, ops: [{ op: "replace", path: "/draft", value: "three" }] });
    await settle();
    expect(seen).toEqual(["one", "two", "three"]);
  });

  it("does not echo when a listener sets a var during a kernel update", async () => {
    const k = todo();
    k.facade.on("change:count", () => k.facade.set("draft", `count is ${String(k.facade.get("count"))}`));
    await k.update({ count: 7, items: ["q"] });
    await settle();
    expect(k.facade.get("draft")).toBe("count is 7");
    expectNoEcho(k);
  });

  it("removes exactly its own listeners on dispose", async () => {
    const k = todo();
    const other = new ModelFacade(bindingFor(k.model));
    const mine = vi.fn();
    const theirs = vi.fn();
    k.facade.on("change:count", mine);
    other.on("change:count", theirs);
    k.facade.dispose();
    await k.update({ count: 9 });
    expect(mine).not.toHaveBeenCalled();
    expect(theirs).toHaveBeenCalledOnce();
  });

  it("passes on custom messages that are not nbstate's", async () => {
    const k = todo();
    const got = vi.fn();
    k.facade.on("msg:custom", got);
    await k.message({ type: "done", id: "nope" });
    await k.message({ hello: 1 });
    expect(got.mock.calls).toEqual([[{ hello: 1 }, []]]);
  });
});

describe("vars carried by a renamed trait", () => {
  it("read, listen, patch and set under the var's own name", async () => {
    const spec = { ...SPEC, vars: [{ name: "log", trait: "_nbvar_log", kind: "base", schema: {} }] };
    const k = todo({ _nb_spec: spec, _nbvar_log: ["start"] });
    expect(k.facade.get("log")).toEqual(["start"]);
    const seen: unknown[] = [];
    k.facade.on("change:log", () => seen.push(k.facade.get("log")));
    await k.message({ type: "patch", rev: 1, ops: [{ op: "add", path: "/log/-", value: "next" }] });
    await settle();
    expect(k.facade.get("log")).toEqual(["start", "next"]);
    expect(seen).toEqual([["start", "next"]]);
    await k.update({ _nbvar_log: ["reset"] });
    await settle();
    expect(seen.at(-1)).toEqual(["reset"]);
    k.facade.set("log", []);
    k.facade.save_changes();
    expect(k.custom.at(-1)).toMatchObject({ type: "set", var: "log", value: [] });
    expectNoEcho(k);
  });
});

describe("runtime.initialize", () => {
  it("handles the messages the loader held before later ones, once each", async () => {
    const k = kernelModel({ _nb_spec: { ...SPEC }, items: [] });
    const proxy = anywidgetProxy(k.model);
    const first = { type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: 1 }] };
    const second = { type: "patch", rev: 2, ops: [{ op: "add", path: "/items/-", value: 2 }] };
    const third = { type: "patch", rev: 3, ops: [{ op: "add", path: "/items/-", value: 3 }] };
    // A view rendered before the runtime initialized the model handles nothing yet.
    render({ model: proxy, el: document.createElement("div") });
    initialize({ model: proxy, messages: [first, second] });
    await k.message(third);
    initialize({ model: proxy, messages: [second, third] }); // a hot reload replays some
    await settle();
    expect(new ModelFacade(bindingFor(k.model)).get("items")).toEqual([1, 2, 3]);
  });
});
