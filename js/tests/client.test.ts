import { describe, expect, it, vi } from "vitest";
import { HandlerError, StateClient } from "../src/core/client";
import { PatchError } from "../src/core/patch";
import type { EventMessage, SetMessage } from "../src/protocol";

function setup(initial: Record<string, unknown>) {
  const values: Record<string, unknown> = { ...initial };
  const writes: Record<string, unknown>[] = [];
  const sent: (EventMessage | SetMessage)[] = [];
  const errors: unknown[] = [];
  const deferred: (() => void)[] = [];
  let n = 0;
  const client = new StateClient({
    store: {
      get: (name) => values[name],
      write: (v) => {
        writes.push(v);
        Object.assign(values, v);
      },
    },
    send: (m) => sent.push(m),
    onError: (info) => errors.push(info),
    newId: () => ++n,
    defer: (task) => deferred.push(task),
  });
  const flush = () => deferred.splice(0).forEach((task) => task());
  return { client, values, writes, sent, errors, flush };
}

describe("StateClient", () => {
  it("applies a patch immutably and writes only the changed vars", () => {
    const items = ["a"];
    const { client, values, writes } = setup({ items, count: 1, other: { x: 1 } });
    client.receive({ type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: "b" }, { op: "replace", path: "/count", value: 2 }] });
    expect(values.items).toEqual(["a", "b"]);
    expect(items).toEqual(["a"]);
    expect(writes).toEqual([{ items: ["a", "b"], count: 2 }]);
  });

  it("rejects a patch atomically", () => {
    const { client, values, writes } = setup({ items: ["a"] });
    expect(() =>
      client.receive({ type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: "b" }, { op: "remove", path: "/items/7" }] }),
    ).toThrow(PatchError);
    expect(() => client.receive({ type: "patch", rev: 2, ops: [{ op: "replace", path: "", value: {} }] })).toThrow(/must address a var/);
    expect(values.items).toEqual(["a"]);
    expect(writes).toEqual([]);
  });

  it("sets optimistically and sends sets in order on save", () => {
    const { client, sent, flush, values } = setup({ a: 1, b: "x" });
    client.set("b", "y");
    client.set("a", 2);
    expect(client.value("a")).toBe(2);
    expect(values.a).toBe(1); // the store write is deferred
    flush();
    expect(values).toEqual({ a: 2, b: "y" });
    expect(sent).toEqual([]);
    client.save();
    expect(sent).toEqual([
      { type: "set", id: 1, var: "b", value: "y" },
      { type: "set", id: 2, var: "a", value: 2 },
    ]);
    client.save();
    expect(sent).toHaveLength(2);
  });

  it("sends pending sets before the event", async () => {
    const { client, sent } = setup({ draft: "" });
    client.set("draft", "milk");
    const done = client.fire("add", { n: 1 });
    expect(sent.map((m) => m.type)).toEqual(["set", "event"]);
    expect(sent[1]).toEqual({ type: "event", id: 2, handler: "add", payload: { n: 1 } });
    client.receive({ type: "done", id: 1 });
    client.receive({ type: "done", id: 2 });
    await expect(done).resolves.toBeUndefined();
  });

  it("rejects fire with the kernel's error info", async () => {
    const { client } = setup({});
    const fired = client.fire("add");
    const info = { handler: "todo.add", type: "ValueError", message: "empty" };
    client.receive({ type: "error", id: 1, error: info });
    const error = await fired.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerError);
    expect((error as HandlerError).info).toEqual(info);
    expect((error as Error).message).toBe("todo.add: ValueError: empty");
  });

  it("reverts a rejected set to the kernel's value and reports it", () => {
    const { client, values, writes, errors, flush } = setup({ n: 1 });
    client.set("n", 5);
    client.save();
    flush();
    expect(values.n).toBe(5);
    const info = { handler: "todo.n", type: "ValidationError", message: "too big" };
    client.receive({ type: "error", id: 1, error: info });
    expect(values.n).toBe(1);
    expect(writes.at(-1)).toEqual({ n: 1 });
    expect(errors).toEqual([info]);
  });

  it("keeps a newer local value when an older set is rejected", () => {
    const { client, values, flush } = setup({ n: 1 });
    client.set("n", 5);
    client.save();
    client.set("n", 6);
    client.save();
    flush();
    client.receive({ type: "error", id: 1, error: { handler: "t.n", type: "E", message: "" } });
    expect(values.n).toBe(6);
    client.receive({ type: "done", id: 2 });
    expect(values.n).toBe(6);
    expect(client.isLocal("n")).toBe(false);
  });

  it("shows the local value over kernel changes until the set is answered", () => {
    const { client, values, flush } = setup({ draft: "" });
    client.set("draft", "abc");
    flush();
    // A kernel update lands in the store (as ipywidgets would) while the set is unsaved.
    values.draft = "old";
    client.kernelChanged("draft", "old");
    expect(client.value("draft")).toBe("abc");
    flush();
    expect(values.draft).toBe("abc");
    client.save();
    // The kernel coerces the value and says so before `done`.
    values.draft = "ABC";
    client.kernelChanged("draft", "ABC");
    flush();
    expect(values.draft).toBe("abc");
    client.receive({ type: "done", id: 1 });
    expect(values.draft).toBe("ABC");
  });

  it("applies patches to the kernel's value of a var the browser is editing", () => {
    const { client, values, flush } = setup({ items: ["a"] });
    client.set("items", ["a", "mine"]);
    flush();
    client.save();
    client.receive({ type: "patch", rev: 1, ops: [{ op: "add", path: "/items/-", value: "theirs" }] });
    expect(values.items).toEqual(["a", "mine"]);
    client.receive({ type: "patch", rev: 2, ops: [{ op: "replace", path: "/items", value: ["a", "mine"] }] });
    client.receive({ type: "done", id: 1 });
    expect(values.items).toEqual(["a", "mine"]);
  });

  it("reports errors nobody awaits", () => {
    const { client, errors } = setup({});
    const info = { handler: "todo.sync", type: "RuntimeError", message: "boom" };
    client.receive({ type: "error", id: null, error: info });
    expect(errors).toEqual([info]);
  });

  it("ignores a set equal to the shown value", () => {
    const { client, sent } = setup({ tags: ["a"] });
    client.set("tags", ["a"]);
    client.save();
    expect(sent).toEqual([]);
  });

  it("defers store writes with the global queueMicrotask, as browsers require", async () => {
    const native = globalThis.queueMicrotask;
    // Browsers throw "Illegal invocation" when queueMicrotask runs with another `this`.
    const strict = vi.fn(function (this: unknown, task: () => void) {
      if (this !== undefined && this !== globalThis) throw new TypeError("Illegal invocation");
      native(task);
    });
    vi.stubGlobal("queueMicrotask", strict);
    try {
      const values: Record<string, unknown> = { a: 1 };
      const client = new StateClient({ store: { get: (n) => values[n], write: (v) => Object.assign(values, v) }, send: () => {} });
      client.set("a", 2);
      await Promise.resolve();
      expect(values.a).toBe(2);
      expect(strict).toHaveBeenCalledOnce();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("rejects waiting events on close", async () => {
    const { client } = setup({});
    const fired = client.fire("slow");
    client.close("closed");
    await expect(fired).rejects.toThrow("closed");
  });
});
