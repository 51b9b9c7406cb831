/**
 * The WebSocket host: a page served by `nbstate serve` (or `nbstate.server.app`) shows its
 * states with the same runtime and views as in Jupyter. One socket per page carries the
 * session; each state is a `SocketModel` (an anywidget-shaped model), so the transport stays
 * behind the model and the bindings and views do not know which host they run in.
 *
 * The session: `hello {protocol, token, rev}` → `welcome {token, rev}`, then a `snapshot` of the
 * whole session document or the `delta`s missed since `rev`. The token lives in
 * `sessionStorage` (a reload keeps the session; another tab has its own). Events and sets leave
 * in the order the views made them, with the state's path (`todo.add`, `state: "todo"`); `done`
 * and `error` go back to the model that sent the request (the hello says `done_in_delta`, so a
 * `done` may come inside the delta it ended: one frame per event, not two). A dropped socket reconnects with
 * backoff, sending the token and the last applied revision, so only the missed deltas come;
 * requests it had in flight fail (the server may or may not have run them), later ones wait
 * for the new socket. A close code in the 4000s (another protocol version, a bad hello) is
 * final: the page shows the server's message and stops.
 */

import { applyPatch } from "../core/patch";
import { PROTOCOL_VERSION, type ErrorInfo, type Op } from "../protocol";
import { initialize, render } from "../jupyter/runtime";
import type { WidgetManager } from "../jupyter/widget";
import { modelId } from "../jupyter/widget";
import type { Cleanup } from "../view/types";
import { SocketModel, type ModelHost, type StateConfig } from "./model";

/** The config the served page passes (`nbstate/server/page.py: page_config`). */
export interface SocketConfig {
  /** The served state's path. */
  path: string;
  /** The WebSocket's path on this host, e.g. `/_nbstate/ws`. */
  socket: string;
  states: Record<string, StateConfig>;
}

/** The subset of the browser's `WebSocket` the host uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface SocketOptions {
  /** Makes a socket for a URL (default: the browser's `WebSocket`). */
  connect?(url: string): SocketLike;
  /** Where the session token is kept (default: `sessionStorage`). */
  storage?: Pick<Storage, "getItem" | "setItem"> | null;
  /** The page's URL, to resolve `config.socket` against (default: `location.href`). */
  base?: string;
  /** Reconnect delays in ms: `min(max, first · 2^attempt)`, plus up to a quarter of jitter. */
  backoff?: { first: number; max: number };
  random?(): number;
}

export const TOKEN_KEY = "nbstate:token";
const OPEN = 1;

type Phase = "connecting" | "open" | "waiting" | "stopped";

/** The frames a view's request becomes; `done`/`error` with its id go back to `model`. */
interface Pending {
  model: SocketModel;
  handler: string;
}

export class SocketHost implements ModelHost {
  readonly models = new Map<string, SocketModel>();
  readonly widget_manager: WidgetManager;
  document: Record<string, Record<string, unknown>> = {};
  /** The revision of the document held, `null` before the first snapshot. */
  rev: number | null = null;
  token: string | null = null;
  phase: Phase = "connecting";
  /** Why the page stopped (a protocol mismatch), or why it is reconnecting. */
  reason = "";

  private socket: SocketLike | null = null;
  private welcomed = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests sent on this socket and not yet answered. */
  private inFlight = new Map<number, Pending>();
  /** Frames made while no socket was open, sent after the next welcome. */
  private outbox: { frame: Record<string, unknown>; pending?: Pending & { id: number } }[] = [];
  /** Models that asked whether the server is there before it welcomed them. */
  private pings = new Set<SocketModel>();
  private lastError: ErrorInfo | null = null;
  private watchers = new Set<() => void>();
  private readonly opts: Required<Omit<SocketOptions, "storage">> & { storage: SocketOptions["storage"] };

  constructor(
    readonly config: SocketConfig,
    options: SocketOptions = {},
  ) {
    this.opts = {
      connect: (url) => new WebSocket(url) as unknown as SocketLike,
      storage: options.storage === undefined ? safeSessionStorage() : options.storage,
      base: globalThis.location?.href ?? "http://127.0.0.1/",
      backoff: { first: 250, max: 5000 },
      random: Math.random,
      ...options,
    };
    for (const [path, state] of Object.entries(config.states)) {
      this.models.set(path, new SocketModel(path, state, this));
    }
    const models = this.models;
    this.widget_manager = {
      get_model(id: string) {
        const model = models.get(modelId(id));
        if (!model) throw new Error(`this page serves no state ${JSON.stringify(modelId(id))}`);
        return model;
      },
    };
    this.token = this.readToken();
  }

  /** The model of the served state. */
  get root(): SocketModel {
    const model = this.models.get(this.config.path);
    if (!model) throw new Error(`the page config has no state ${JSON.stringify(this.config.path)}`);
    return model;
  }

  /** Open the socket (again). */
  connect(): void {
    if (this.phase === "stopped") return;
    clearTimeout(this.timer);
    this.setPhase("connecting", this.reason);
    this.welcomed = false;
    const url = new URL(this.config.socket, this.opts.base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let socket: SocketLike;
    try {
      socket = this.opts.connect(url.href);
    } catch (error) {
      this.dropped(`could not open ${url.href}: ${String(error)}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.write({ type: "hello", protocol: PROTOCOL_VERSION, token: this.token, rev: this.rev, done_in_delta: true });
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.closed(event.code, event.reason);
    };
    socket.onerror = () => {
      // a close event follows; it decides what happens
    };
  }

  /** Close for good (the page is going away, or a test is done). */
  stop(reason = "closed"): void {
    clearTimeout(this.timer);
    this.setPhase("stopped", reason);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, reason);
    this.failInFlight("NotConnected", reason);
  }

  /** Call `watcher` on every change of phase; returns the unsubscribe. */
  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  // ----------------------------------------------------------------- ModelHost

  values(path: string): Record<string, unknown> | undefined {
    return this.document[path];
  }

  send(model: SocketModel, content: unknown): void {
    if (typeof content !== "object" || content === null) return;
    const message = content as Record<string, unknown>;
    if (message.type === "ping") {
      // the runtime asks once whether a server answers; it does once the session is there
      if (this.welcomed) queueMicrotask(() => model.receive({ type: "pong" }));
      else this.pings.add(model);
      return;
    }
    const id = message.id;
    if (typeof id !== "number") return;
    let frame: Record<string, unknown>;
    let handler: string;
    if (message.type === "event" && typeof message.handler === "string") {
      handler = `${model.path}.${message.handler}`;
      frame = { type: "event", id, handler, payload: message.payload ?? {} };
    } else if (message.type === "set" && typeof message.var === "string") {
      handler = `${model.path}.${message.var}`;
      frame = { type: "set", id, state: model.path, var: message.var, value: message.value };
    } else {
      return;
    }
    const pending = { model, handler };
    if (this.phase === "stopped") {
      queueMicrotask(() => model.receive(errorFrame(id, handler, "NotConnected", this.reason)));
    } else if (this.welcomed && this.socket?.readyState === OPEN) {
      this.inFlight.set(id, pending);
      this.write(frame);
    } else {
      this.outbox.push({ frame, pending: { ...pending, id } });
    }
  }

  // ----------------------------------------------------------------- frames

  private write(frame: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private onFrame(data: unknown): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(String(data)) as Record<string, unknown>;
    } catch {
      console.error("nbstate: the server sent a frame that is not JSON");
      return;
    }
    switch (frame.type) {
      case "welcome":
        return this.welcome(frame);
      case "snapshot":
        return this.snapshot(frame.rev as number, frame.document as Record<string, Record<string, unknown>>);
      case "delta":
        this.delta(frame.rev as number, frame.ops as Op[]);
        if (typeof frame.done === "number") this.answer(frame.done, { type: "done", id: frame.done });
        return;
      case "done":
        return this.answer(frame.id as number | null, frame);
      case "error":
        return this.answer(frame.id as number | null, frame);
      case "ping":
        return this.write({ type: "pong" });
      case "pong":
        return;
      default:
        console.error(`nbstate: unknown frame type ${JSON.stringify(frame.type)}`);
    }
  }

  private welcome(frame: Record<string, unknown>): void {
    if (typeof frame.token === "string") {
      this.token = frame.token;
      try {
        this.opts.storage?.setItem(TOKEN_KEY, frame.token);
      } catch {
        // storage refused (private mode): the session lasts as long as the page
      }
    }
    this.welcomed = true;
    this.attempt = 0;
    this.setPhase("open", "");
    for (const model of this.pings) queueMicrotask(() => model.receive({ type: "pong" }));
    this.pings.clear();
    const outbox = this.outbox;
    this.outbox = [];
    for (const { frame: out, pending } of outbox) {
      if (pending) this.inFlight.set(pending.id, pending);
      this.write(out);
    }
  }

  private snapshot(rev: number, document: Record<string, Record<string, unknown>>): void {
    const before = this.document;
    this.document = document;
    this.rev = rev;
    this.announce(before, document);
  }

  private delta(rev: number, ops: Op[]): void {
    if (this.rev !== null && rev <= this.rev) return; // already applied
    if (this.rev !== null && rev > this.rev + 1) {
      // revisions are missing (another server process's deltas did not all arrive): reconnect
      // with the last one applied, and the server sends what came after it
      console.warn(`nbstate: revision ${rev} came after ${this.rev}; asking for the ones between`);
      this.socket?.close(1000, "gap");
      return;
    }
    const before = this.document;
    let after: Record<string, Record<string, unknown>>;
    try {
      after = applyPatch(before, ops);
    } catch (error) {
      // the copy no longer matches the session: reconnect without a revision for a snapshot
      console.error("nbstate: a delta did not apply; asking for a snapshot", error);
      this.rev = null;
      this.socket?.close(1000, "resync");
      return;
    }
    this.document = after;
    this.rev = rev;
    this.announce(before, after);
  }

  /** Fire `change:<trait>` for every var whose value is not the same object any more. */
  private announce(before: Record<string, Record<string, unknown>>, after: Record<string, Record<string, unknown>>): void {
    for (const [path, model] of this.models) {
      const old = before[path];
      const now = after[path];
      if (old === now) continue;
      const names = new Set([...Object.keys(old ?? {}), ...Object.keys(now ?? {})]);
      for (const name of names) {
        if (old?.[name] !== now?.[name]) model.varChanged(name);
      }
    }
  }

  private answer(id: number | null, frame: Record<string, unknown>): void {
    if (id !== null && id !== undefined) {
      const pending = this.inFlight.get(id);
      if (pending) {
        this.inFlight.delete(id);
        pending.model.receive(frame);
        return;
      }
    }
    if (frame.type !== "error") return;
    const error = frame.error as ErrorInfo;
    this.lastError = error;
    // a background handler's error goes to its state; anything else to the served one
    this.ownerOf(error.handler).receive({ ...frame, id: null });
  }

  private ownerOf(handler: unknown): SocketModel {
    if (typeof handler === "string") {
      const path = handler.slice(0, handler.lastIndexOf("."));
      const model = this.models.get(path) ?? this.models.get(handler);
      if (model) return model;
    }
    return this.root;
  }

  // ----------------------------------------------------------------- closing

  private closed(code: number, reason: string): void {
    this.welcomed = false;
    if (code >= 4000 && code < 5000) {
      const why = this.lastError?.message || reason || `the server closed the connection (code ${code})`;
      this.stop(why);
      return;
    }
    this.dropped(reason || "the connection to the server was lost");
  }

  private dropped(why: string): void {
    this.failInFlight("ConnectionLost", `${why}; the server may or may not have run it`);
    const { first, max } = this.opts.backoff;
    const delay = Math.min(max, first * 2 ** this.attempt);
    this.attempt += 1;
    this.setPhase("waiting", "Reconnecting to the server…");
    this.timer = setTimeout(() => this.connect(), delay + delay * 0.25 * this.opts.random());
  }

  private failInFlight(type: string, message: string): void {
    const inFlight = [...this.inFlight];
    this.inFlight.clear();
    for (const [id, { model, handler }] of inFlight) model.receive(errorFrame(id, handler, type, message));
    if (this.phase === "stopped") {
      const outbox = this.outbox;
      this.outbox = [];
      for (const { pending } of outbox) {
        if (pending) pending.model.receive(errorFrame(pending.id, pending.handler, "NotConnected", message));
      }
    }
  }

  private setPhase(phase: Phase, reason: string): void {
    if (this.phase === phase && this.reason === reason) return;
    this.phase = phase;
    this.reason = reason;
    for (const watcher of [...this.watchers]) watcher();
  }

  private readToken(): string | null {
    try {
      return this.opts.storage?.getItem(TOKEN_KEY) ?? null;
    } catch {
      return null;
    }
  }
}

function errorFrame(id: number, handler: string, type: string, message: string) {
  return { type: "error", id, error: { handler, type, message } };
}

function safeSessionStorage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * Show `config.path`'s state in `root`, served over one WebSocket; returns the host (its
 * `stop()` closes the socket). The page above the view gets a status line
 * (`div.nbstate-socket-status[role=status]`): empty while connected, "Reconnecting…" while not,
 * and the server's message when the page stopped (another protocol version).
 */
export function serveSocket(root: HTMLElement, config: SocketConfig, options: SocketOptions = {}): SocketHost {
  const host = new SocketHost(config, options);
  const doc = root.ownerDocument;
  for (const [path, state] of Object.entries(config.states)) {
    if (!state.css) continue;
    const style = doc.createElement("style");
    style.dataset.nbState = path;
    style.textContent = state.css;
    doc.head.append(style);
  }
  const status = doc.createElement("div");
  status.className = "nbstate-socket-status";
  status.setAttribute("role", "status");
  const view = doc.createElement("div");
  view.className = "nbstate-socket-view";
  root.replaceChildren(status, view);
  const show = () => {
    const stopped = host.phase === "stopped";
    status.textContent = host.phase === "waiting" || stopped ? host.reason : "";
    status.hidden = status.textContent === "";
    status.classList.toggle("nbstate-error", stopped);
    const fieldset = view.querySelector<HTMLFieldSetElement>("fieldset.nbstate-controls");
    if (fieldset) fieldset.disabled = stopped || host.phase === "waiting";
  };
  host.watch(show);
  const model = host.root;
  initialize({ model });
  const cleanup: Cleanup = render({ model, el: view });
  show();
  host.connect();
  globalThis.addEventListener?.("pagehide", () => {
    host.stop("page closed");
    cleanup();
  });
  // a page restored from the back/forward cache had its socket closed: load it afresh
  globalThis.addEventListener?.("pageshow", (event) => {
    if ((event as PageTransitionEvent).persisted) globalThis.location?.reload();
  });
  return host;
}
