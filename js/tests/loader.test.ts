/**
 * The loader as shipped: bundled from src/loader.ts with the build's options and imported
 * natively, driving fake anywidget proxies (a Backbone-like emitter plus a send log).
 */
import { createRequire } from "node:module";
import { build } from "esbuild";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { options } from "../build.mjs";

type Callback = (...args: unknown[]) => void;

class FakeModel {
  sent: unknown[] = [];
  attributes: Record<string, unknown> = {};
  widget_manager?: { get_model(id: string): Promise<FakeModel | undefined> };
  private listeners = new Map<string, Callback[]>();
  on(event: string, cb: Callback) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), cb]);
  }
  off(event: string, cb: Callback) {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((c) => c !== cb));
  }
  count(event: string) {
    return this.listeners.get(event)?.length ?? 0;
  }
  emit(event: string, ...args: unknown[]) {
    for (const cb of this.listeners.get(event) ?? []) cb(...args);
  }
  send(content: unknown) {
    this.sent.push(content);
  }
  get(name: string) {
    return this.attributes[name];
  }
}

interface Loader {
  initialize(ctx: { model: FakeModel }): void;
  render(ctx: { model: FakeModel; el: { textContent: string } }): Promise<unknown>;
}

const KEY = "__nbstate_runtime_v1";
// A stand-in runtime that records what the loader hands it.
const RUNTIME = `
export function initialize({ model, messages }) { globalThis.__nbCalls.push(["initialize", model.name, messages.map((m) => m.type)]); }
export function render({ model }) { globalThis.__nbCalls.push(["render", model.name]); return "cleanup"; }
`;
const calls: unknown[][] = [];
let code = "";
let loader: Loader;

// Node cannot import blob: URLs; serve the Blob's text as a data: URL instead.
class TextBlob {
  constructor(readonly parts: string[]) {}
}
const nativeImport = createRequire(import.meta.url)("./support/native_import.cjs") as (url: string) => Promise<{ default: Loader }>;
const dataUrl = (source: string) => `data:text/javascript;base64,${Buffer.from(source).toString("base64")}`;

beforeAll(async () => {
  const result = await build({ ...options, entryPoints: ["src/loader.ts"], write: false });
  code = result.outputFiles[0]?.text ?? "";
  Object.assign(globalThis, { Blob: TextBlob, __nbCalls: calls });
  URL.createObjectURL = (blob: unknown) => dataUrl((blob as TextBlob).parts.join(""));
  URL.revokeObjectURL = () => {};
  loader = (await nativeImport(dataUrl(code))).default;
});

afterEach(() => {
  delete (globalThis as Record<string, unknown>)[KEY];
  calls.length = 0;
});

const named = (name: string) => Object.assign(new FakeModel(), { name });
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("loader.js", () => {
  it("stays tiny", () => {
    expect(code.length).toBeLessThan(2048);
  });

  it("fetches the runtime once per page and delegates every model to it", async () => {
    const first = named("first");
    const second = named("second");
    loader.initialize({ model: first });
    loader.initialize({ model: second });
    expect(first.sent).toEqual([{ type: "runtime_request" }]);
    expect(second.sent).toEqual([]);
    const el = { textContent: "" };
    const rendered = loader.render({ model: second, el });
    expect(el.textContent).toMatch(/Loading/);

    // A kernel message for `second` arrives before the runtime: it is held, then handed over.
    second.emit("msg:custom", { type: "patch", rev: 1, ops: [] }, []);
    first.emit("msg:custom", { type: "runtime", source: RUNTIME }, []);
    await expect(rendered).resolves.toBe("cleanup");
    await tick();
    expect(el.textContent).toBe("");
    expect(calls).toEqual([
      ["initialize", "first", ["runtime"]],
      ["initialize", "second", ["patch"]],
      ["render", "second"],
    ]);
    // The loader let go of every listener it added.
    expect(first.count("msg:custom") + second.count("msg:custom")).toBe(0);

    const third = named("third");
    loader.initialize({ model: third });
    await tick();
    expect(third.sent).toEqual([]);
    expect(calls.at(-1)).toEqual(["initialize", "third", []]);
  });

  it("reads the runtime from the model `_nb_runtime` names, without a kernel, once per page", async () => {
    const holder = Object.assign(new FakeModel(), { attributes: { source: RUNTIME } });
    const manager = { get_model: vi.fn(async (id: string) => (id === "r1" ? holder : undefined)) };
    const saved = (name: string) =>
      Object.assign(named(name), { attributes: { _nb_runtime: "IPY_MODEL_r1" }, widget_manager: manager });
    const first = saved("first");
    const second = saved("second");
    loader.initialize({ model: first });
    const el = { textContent: "" };
    await expect(loader.render({ model: second, el })).resolves.toBe("cleanup");
    loader.initialize({ model: second });
    await tick();
    expect(first.sent).toEqual([]);
    expect(manager.get_model).toHaveBeenCalledOnce();
    expect(calls).toEqual([
      ["initialize", "first", []],
      ["render", "second"],
      ["initialize", "second", []],
    ]);
  });

  it("tries again for the next model when loading failed", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const manager = { get_model: vi.fn(async () => { throw new Error("no such model"); }) };
    const broken = Object.assign(named("broken"), { attributes: { _nb_runtime: "IPY_MODEL_gone" }, widget_manager: manager });
    loader.initialize({ model: broken });
    await tick();
    expect(log).toHaveBeenCalledOnce();
    log.mockRestore();
    const next = named("next");
    const rendered = loader.render({ model: next, el: { textContent: "" } });
    await tick();
    expect(next.sent).toEqual([{ type: "runtime_request" }]);
    next.emit("msg:custom", { type: "runtime", source: RUNTIME }, []);
    await expect(rendered).resolves.toBe("cleanup");
  });
});
