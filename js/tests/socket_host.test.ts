// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROTOCOL_VERSION } from "../src/protocol";
import { serveSocket, SocketHost, TOKEN_KEY, type SocketConfig, type SocketLike } from "../src/socket/host";

/** A WebSocket stand-in: records sent frames; the test plays the server. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000): void {
    this.closedWith = code;
    this.drop(code);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** The frames of `type` sent so far. */
  of(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }
}

const VARS = [
  { name: "items", kind: "base", schema: { type: "array", items: { type: "string" } } },
  { name: "draft", kind: "base", schema: { type: "string" } },
  { name: "log", kind: "base", schema: { type: "string" }, trait: "_nbvar_log" },
];
const CONFIG: SocketConfig = {
  path: "todo",
  socket: "/_nbstate/ws",
  states: {
    todo: {
      spec: {
        protocol: 1,
        path: "todo",
        title: "Todo",
        vars: VARS as never,
        handlers: [{ name: "add", doc: "", background: false, params: [] }],
      },
      view: "",
      css: ".todo { color: red }",
      children: ["todo.filters"],
    },
    "todo.filters": {
      spec: { protocol: 1, path: "todo.filters", title: "Filters", vars: [{ name: "query", kind: "base", schema: { type: "string" } }], handlers: [] },
      view: "",
      css: "",
      children: [],
    },
  },
};

class MemoryStorage {
  data = new Map<string, string>();
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
}

let sockets: FakeSocket[];
let storage: MemoryStorage;

function host(config: SocketConfig = CONFIG): SocketHost {
  const h = new SocketHost(config, {
    connect: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    storage,
    base: "http://127.0.0.1:8123/app/",
    backoff: { first: 100, max: 1000 },
    random: () => 0,
  });
  return h;
}

function last(): FakeSocket {
  const socket = sockets.at(-1);
  if (!socket) throw new Error("no socket");
  return socket;
}

/** Open the latest socket and answer its hello with a welcome and a snapshot. */
function welcome(document: Record<string, Record<string, unknown>>, rev = 1, token = "t1"): FakeSocket {
  const socket = last();
  socket.open();
  socket.frame({ type: "welcome", protocol: PROTOCOL_VERSION, token, rev });
  socket.frame({ type: "snapshot", rev, document });
  return socket;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  sockets = [];
  storage = new MemoryStorage();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the session", () => {
  it("says hello with the protocol, no token and no revision, and keeps the welcome's token", () => {
    const h = host();
    h.connect();
    expect(last().url).toBe("ws://127.0.0.1:8123/_nbstate/ws");
    welcome({ todo: { items: [], draft: "" } }, 3, "secret");
    expect(last().sent[0]).toEqual({ type: "hello", protocol: PROTOCOL_VERSION, token: null, rev: null, done_in_delta: true });
    expect(storage.getItem(TOKEN_KEY)).toBe("secret");
    expect(h.rev).toBe(3);
  });

  it("sends the stored token of a reloaded page", () => {
    storage.setItem(TOKEN_KEY, "kept");
    const h = host();
    h.connect();
    last().open();
    expect(last().sent[0]).toMatchObject({ token: "kept", rev: null });
  });

  it("reads vars from the snapshot through their traits, and the page config's own traits", () => {
    const h = host();
    h.connect();
    welcome({ todo: { items: ["a"], draft: "x", log: "L" }, "todo.filters": { query: "" } });
    const todo = h.root;
    expect(todo.get("items")).toEqual(["a"]);
    expect(todo.get("_nbvar_log")).toBe("L");
    expect(todo.get("_nb_children")).toEqual(["todo.filters"]);
    expect(todo.get("_nb_view")).toBe("");
    expect((todo.get("_nb_spec") as { title: string }).title).toBe("Todo");
    expect(todo.widget_manager.get_model("IPY_MODEL_todo.filters")).toBe(h.models.get("todo.filters"));
    expect(() => todo.widget_manager.get_model("nope")).toThrow(/no state "nope"/);
  });

  it("applies deltas at session-document paths and fires change only for vars that changed", () => {
    const h = host();
    h.connect();
    const socket = welcome({ todo: { items: ["a"], draft: "x", log: "" }, "todo.filters": { query: "" } });
    const seen: string[] = [];
    h.root.on("change:items", () => seen.push("items"));
    h.root.on("change:draft", () => seen.push("draft"));
    h.root.on("change:_nbvar_log", () => seen.push("log"));
    h.models.get("todo.filters")?.on("change:query", () => seen.push("query"));
    socket.frame({ type: "delta", rev: 2, ops: [{ op: "add", path: "/todo/items/-", value: "b" }, { op: "replace", path: "/todo/log", value: "1" }] });
    expect(h.root.get("items")).toEqual(["a", "b"]);
    expect(seen).toEqual(["items", "log"]);
    // a delta already applied (a replay) changes nothing
    socket.frame({ type: "delta", rev: 2, ops: [{ op: "add", path: "/todo/items/-", value: "b" }] });
    expect(h.root.get("items")).toEqual(["a", "b"]);
    expect(h.rev).toBe(2);
  });

  it("takes a new session's snapshot whole when the token was unknown or expired", () => {
    storage.setItem(TOKEN_KEY, "expired");
    const h = host();
    h.connect();
    welcome({ todo: { items: ["a", "b"], draft: "x" } }, 9, "first");
    const seen: string[] = [];
    h.root.on("change:items", () => seen.push("items"));
    h.root.on("change:draft", () => seen.push("draft"));
    last().drop(1006);
    vi.useFakeTimers();
    h.connect();
    welcome({ todo: { items: [] , draft: "x" } }, 1, "second");
    expect(last().sent[0]).toMatchObject({ token: "first", rev: 9 });
    expect(h.root.get("items")).toEqual([]);
    expect(h.rev).toBe(1);
    expect(storage.getItem(TOKEN_KEY)).toBe("second");
    // a later delta of the new session applies even though its revision is below the old one
    last().frame({ type: "delta", rev: 2, ops: [{ op: "add", path: "/todo/items/-", value: "n" }] });
    expect(h.root.get("items")).toEqual(["n"]);
    expect(seen).toEqual(["items", "items"]);
  });

  it("answers the server's ping", () => {
    const h = host();
    h.connect();
    const socket = welcome({ todo: {} });
    socket.frame({ type: "ping" });
    expect(socket.of("pong")).toHaveLength(1);
  });
});

describe("requests", () => {
  it("become frames with the state's path; done and error go back to the sending model", async () => {
    const h = host();
    h.connect();
    const socket = welcome({ todo: { items: [], draft: "" }, "todo.filters": { query: "" } });
    const got: unknown[] = [];
    h.root.on("msg:custom", (m: unknown) => got.push(m));
    const filters = h.models.get("todo.filters");
    const fgot: unknown[] = [];
    filters?.on("msg:custom", (m: unknown) => fgot.push(m));
    h.root.send({ type: "event", id: 7, handler: "add", payload: { x: 1 }, client: "c", seq: 1 });
    filters?.send({ type: "set", id: 8, var: "query", value: "q", client: "c", seq: 2 });
    expect(socket.sent.slice(1)).toEqual([
      { type: "event", id: 7, handler: "todo.add", payload: { x: 1 } },
      { type: "set", id: 8, state: "todo.filters", var: "query", value: "q" },
    ]);
    socket.frame({ type: "done", id: 7 });
    socket.frame({ type: "error", id: 8, error: { handler: "todo.filters.query", type: "ValueError", message: "no" } });
    expect(got).toEqual([{ type: "done", id: 7 }]);
    expect(fgot).toEqual([{ type: "error", id: 8, error: { handler: "todo.filters.query", type: "ValueError", message: "no" } }]);
  });

  it("take a done carried by the delta it ended, after applying the delta", () => {
    const h = host();
    h.connect();
    const socket = welcome({ todo: { items: [], draft: "" } });
    const got: unknown[] = [];
    h.root.on("msg:custom", (m: unknown) => got.push([m, h.root.get("items")]));
    h.root.send({ type: "event", id: 9, handler: "add", payload: {}, client: "c", seq: 1 });
    socket.frame({ type: "delta", rev: 2, ops: [{ op: "add", path: "/todo/items/-", value: "a" }], done: 9 });
    expect(got).toEqual([[{ type: "done", id: 9 }, ["a"]]]);
    socket.frame({ type: "done", id: 9 }); // answered once: a stray second answer goes nowhere
    expect(got).toHaveLength(1);
  });

  it("route a background handler's error to its state", () => {
    const h = host();
    h.connect();
    const socket = welcome({ todo: {} });
    const fgot: unknown[] = [];
    h.models.get("todo.filters")?.on("msg:custom", (m: unknown) => fgot.push(m));
    socket.frame({ type: "error", id: null, error: { handler: "todo.filters.refresh", type: "E", message: "m" } });
    expect(fgot).toHaveLength(1);
  });

  it("made before the welcome wait for it; the runtime's ping is answered once welcomed", async () => {
    const h = host();
    h.connect();
    const got: unknown[] = [];
    h.root.on("msg:custom", (m: unknown) => got.push(m));
    h.root.send({ type: "ping" });
    h.root.send({ type: "event", id: 1, handler: "add", payload: {} });
    last().open();
    expect(last().of("event")).toEqual([]);
    await settle();
    expect(got).toEqual([]);
    welcome({ todo: {} });
    expect(last().of("event")).toHaveLength(1);
    await settle();
    expect(got).toEqual([{ type: "pong" }]);
  });
});

describe("reconnecting", () => {
  it("backs off, fails requests in flight, and resumes with the token and revision held", async () => {
    vi.useFakeTimers();
    const h = host();
    h.connect();
    const socket = welcome({ todo: { items: ["a"] } }, 5, "tok");
    socket.frame({ type: "delta", rev: 6, ops: [{ op: "add", path: "/todo/items/-", value: "b" }] });
    const got: Record<string, unknown>[] = [];
    h.root.on("msg:custom", (m: Record<string, unknown>) => got.push(m));
    h.root.send({ type: "event", id: 3, handler: "add", payload: {} });
    socket.drop(1006);
    expect(got).toEqual([{ type: "error", id: 3, error: expect.objectContaining({ handler: "todo.add", type: "ConnectionLost" }) }]);
    expect(h.phase).toBe("waiting");
    // a request made while away waits for the next socket
    h.root.send({ type: "event", id: 4, handler: "add", payload: {} });
    vi.advanceTimersByTime(99);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    last().drop(1006); // refused again: the next delay doubles
    vi.advanceTimersByTime(199);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    const again = last();
    again.open();
    expect(again.sent[0]).toEqual({ type: "hello", protocol: PROTOCOL_VERSION, token: "tok", rev: 6, done_in_delta: true });
    again.frame({ type: "welcome", protocol: PROTOCOL_VERSION, token: "tok", rev: 7 });
    again.frame({ type: "delta", rev: 7, ops: [{ op: "add", path: "/todo/items/-", value: "c" }] });
    expect(h.root.get("items")).toEqual(["a", "b", "c"]);
    expect(again.of("event")).toEqual([{ type: "event", id: 4, handler: "todo.add", payload: {} }]);
    expect(h.phase).toBe("open");
  });

  it("a delta that does not apply asks for a snapshot on a new socket", () => {
    vi.useFakeTimers();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const h = host();
    h.connect();
    const socket = welcome({ todo: { items: [] } }, 1);
    socket.frame({ type: "delta", rev: 2, ops: [{ op: "remove", path: "/todo/items/5" }] });
    expect(socket.closedWith).toBe(1000);
    vi.advanceTimersByTime(200);
    last().open();
    expect(last().sent[0]).toMatchObject({ rev: null });
  });

  it("a delta after missing revisions asks for the ones between on a new socket", () => {
    vi.useFakeTimers();
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const h = host();
    h.connect();
    const socket = welcome({ todo: { items: [] } }, 3);
    socket.frame({ type: "delta", rev: 5, ops: [{ op: "add", path: "/todo/items/-", value: "late" }] });
    expect(socket.closedWith).toBe(1000);
    expect(h.root.get("items")).toEqual([]); // not applied over the gap
    vi.advanceTimersByTime(200);
    last().open();
    expect(last().sent[0]).toMatchObject({ type: "hello", rev: 3 });
  });

  it("stops on a protocol mismatch and shows the server's message", async () => {
    vi.useFakeTimers();
    const root = document.createElement("div");
    document.body.append(root);
    const h = serveSocket(root, CONFIG, {
      connect: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      storage,
      backoff: { first: 100, max: 1000 },
    });
    const socket = last();
    socket.open();
    socket.frame({ type: "error", id: null, error: { handler: "hello", type: "ProtocolError", message: "this page speaks protocol 1 and the server 2; reload the page" } });
    socket.drop(4000);
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(1);
    expect(h.phase).toBe("stopped");
    const status = root.querySelector(".nbstate-socket-status");
    expect(status?.textContent).toContain("reload the page");
    expect((status as HTMLElement).hidden).toBe(false);
    // a request now fails at once instead of waiting for a socket that never comes
    const got: unknown[] = [];
    h.root.on("msg:custom", (m: unknown) => got.push(m));
    h.root.send({ type: "event", id: 9, handler: "add", payload: {} });
    await vi.runAllTimersAsync();
    expect(got).toEqual([{ type: "error", id: 9, error: expect.objectContaining({ type: "NotConnected" }) }]);
    h.stop();
    root.remove();
  });
});

describe("serveSocket", () => {
  it("renders the default view with the same runtime, and a click becomes an event frame", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const h = serveSocket(root, CONFIG, {
      connect: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      storage,
    });
    expect(document.head.querySelector('style[data-nb-state="todo"]')?.textContent).toContain("color: red");
    const socket = welcome({ todo: { items: ["first"], draft: "", log: "" }, "todo.filters": { query: "" } });
    await settle();
    await settle();
    expect(root.textContent).toContain("first");
    socket.frame({ type: "delta", rev: 2, ops: [{ op: "add", path: "/todo/items/-", value: "second" }] });
    await settle();
    expect(root.textContent).toContain("second");
    const button = root.querySelector<HTMLButtonElement>('button[data-nb-handler="add"]');
    expect(button).not.toBeNull();
    button?.click();
    await settle();
    expect(socket.of("event")).toEqual([expect.objectContaining({ handler: "todo.add" })]);
    // the substate is mounted through widget_manager.get_model
    expect(root.querySelector('[data-nb-child="todo.filters"]')).not.toBeNull();
    h.stop();
    root.remove();
  });
});
