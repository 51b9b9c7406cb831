/**
 * The transport-free client of one state: what the browser knows of the kernel's values, the
 * browser's own unconfirmed sets, and the events awaiting an answer.
 *
 * A host gives it a `StateStore` (where var values are shown, e.g. a widget model's attributes)
 * and a `send` function, and feeds it the kernel's messages (`receive`) and whole-value changes
 * that reached the store by other means (`kernelChanged`, e.g. an ipywidgets trait update).
 *
 * Display rule: a var the browser has set and the kernel has not yet answered (an unsaved or an
 * in-flight `set`) shows the browser's value; every other var shows the kernel's value. When
 * the last outstanding set of a var is answered, the var shows the kernel's value again: on
 * `done` that is the value sent (or the kernel's own value if it sent one after the set, e.g.
 * after coercing it); on `error` it is the value from before the set (a revert).
 *
 * Store writes caused by `set` and `kernelChanged` are deferred to a microtask, so the client
 * never writes into a store while the store is still dispatching its own change (ipywidgets'
 * `set_state` is not re-entrant); `value(name)` answers the new value at once.
 */

import type { ErrorInfo, EventMessage, IncomingMessage, Op, SetMessage } from "../protocol";
import { deepEqual, hasOwn } from "./json";
import { applyPatch, PatchError } from "./patch";
import { parsePointer } from "./pointer";

export interface StateStore {
  /** The value of a var as currently shown. */
  get(name: string): unknown;
  /** Show these values (firing the store's change events); never sends them to the kernel. */
  write(values: Record<string, unknown>): void;
}

export interface ClientOptions {
  store: StateStore;
  send(message: EventMessage | SetMessage): void;
  /** Errors no caller awaits: background handlers, rejected sets, patches that failed. */
  onError?(info: ErrorInfo): void;
  newId?(): number;
  defer?(task: () => void): void;
}

/** The kernel answered an event with `error`; `info` names the handler, type and message. */
export class HandlerError extends Error {
  override name = "HandlerError";
  constructor(readonly info: ErrorInfo) {
    super(formatError(info));
  }
}

/** `"todo.add: ValueError: empty item"`. */
export function formatError(info: ErrorInfo): string {
  return `${info.handler}: ${info.type}: ${info.message}`;
}

type Request =
  | { kind: "event"; resolve(): void; reject(error: Error): void }
  | { kind: "set"; name: string; value: unknown; version: number };

let counter = 0;

/**
 * A message id: a number, unique per page (so ids never repeat on one comm, even across runtime
 * reloads). Numbers, not strings: ipykernel 7 remembers every outgoing comm message whose
 * content has a *string* `id` as a request awaiting its reply, and nbstate's `done`/`error`
 * replies are never answered, so string ids would grow that table by one entry per event.
 */
export function newId(): number {
  counter += 1;
  return counter;
}

/** A connection id: unguessable and unique across pages. */
export function newClientId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class StateClient {
  /** The kernel's values of vars while they are local (the store shows the others' directly). */
  private kernel = new Map<string, unknown>();
  /** Counts the kernel values received per var, to tell whether a `done` is the latest word. */
  private versions = new Map<string, number>();
  /** Unsaved browser sets, in the order they were last set. */
  private pending = new Map<string, unknown>();
  /** Sent but unanswered sets per var: the last value sent and how many are in flight. */
  private inFlight = new Map<string, { value: unknown; count: number }>();
  private requests = new Map<number, Request>();
  /** The session revision of the last patch that changed each var. */
  private patchRevs = new Map<string, number>();
  private queued: Set<string> | null = null;
  private readonly opts: Required<ClientOptions>;

  constructor(options: ClientOptions) {
    this.opts = {
      onError: (info) => console.error(formatError(info)),
      newId,
      // Called bare: browsers throw "Illegal invocation" for queueMicrotask on another receiver.
      defer: (task) => queueMicrotask(task),
      ...options,
    };
  }

  /** The value to show for `name` now. */
  value(name: string): unknown {
    if (this.pending.has(name)) return this.pending.get(name);
    const flight = this.inFlight.get(name);
    return flight ? flight.value : this.kernelValue(name);
  }

  /** Set a var locally; `save` sends it. A value equal to the shown one is ignored. */
  set(name: string, value: unknown): void {
    if (deepEqual(value, this.value(name))) return;
    if (!this.isLocal(name)) this.kernel.set(name, this.opts.store.get(name));
    this.pending.delete(name);
    this.pending.set(name, value);
    this.schedule(name);
  }

  /** True while `name` has unsaved or unanswered sets. */
  isLocal(name: string): boolean {
    return this.pending.has(name) || this.inFlight.has(name);
  }

  /** Send every unsaved set, one `set` message each, in order. */
  save(): void {
    const entries = [...this.pending];
    this.pending.clear();
    for (const [name, value] of entries) {
      const id = this.opts.newId();
      this.requests.set(id, { kind: "set", name, value, version: this.version(name) });
      const flight = this.inFlight.get(name);
      this.inFlight.set(name, { value, count: (flight?.count ?? 0) + 1 });
      this.opts.send({ type: "set", id, var: name, value });
    }
  }

  /** Send unsaved sets, then the event; resolves on `done`, rejects with `HandlerError`. */
  fire(handler: string, payload: Record<string, unknown> = {}): Promise<void> {
    this.save();
    const id = this.opts.newId();
    return new Promise<void>((resolve, reject) => {
      this.requests.set(id, { kind: "event", resolve, reject });
      try {
        this.opts.send({ type: "event", id, handler, payload });
      } catch (error) {
        this.requests.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** A var changed in the store by a kernel trait update (or another writer that syncs). */
  kernelChanged(name: string, value: unknown): void {
    this.kernel.set(name, value);
    this.bump(name);
    if (this.isLocal(name)) this.schedule(name);
  }

  /** Handle a kernel message. Throws `PatchError` for a patch that does not apply. */
  receive(message: IncomingMessage): void {
    switch (message.type) {
      case "patch":
        return this.patch(message.ops, message.rev);
      case "done":
        return this.settle(message.id, null);
      case "error":
        return this.settle(message.id, message.error);
      case "runtime":
        return;
    }
  }

  /** True while an event or set awaits its answer. */
  awaiting(): boolean {
    return this.requests.size > 0;
  }

  /** Fail every request still waiting (the kernel stopped answering): events reject, and each
   * set's var reports `reason`; a late answer to any of them is dropped. */
  close(reason: string): void {
    for (const [id, request] of this.requests) {
      this.requests.delete(id);
      if (request.kind === "event") request.reject(new Error(reason));
      else this.opts.onError({ handler: request.name, type: "NotConnected", message: reason });
    }
  }

  /** True when a patch newer than revision `rev` changed var `name`. */
  patchedAfter(name: string, rev: number): boolean {
    return (this.patchRevs.get(name) ?? -1) > rev;
  }

  private patch(ops: Op[], rev: number): void {
    const names = varNames(ops);
    for (const name of names) this.patchRevs.set(name, rev);
    const doc: Record<string, unknown> = {};
    for (const name of names) {
      const value = this.kernelValue(name);
      if (value !== undefined) doc[name] = value;
    }
    const next = applyPatch(doc, ops);
    const shown: Record<string, unknown> = {};
    let any = false;
    for (const name of names) {
      const value = hasOwn(next, name) ? next[name] : undefined;
      if (value === doc[name]) continue;
      this.kernel.set(name, value);
      this.bump(name);
      if (!this.isLocal(name)) {
        shown[name] = value;
        any = true;
      }
    }
    if (any) this.opts.store.write(shown);
  }

  private settle(id: number | null, error: ErrorInfo | null): void {
    const request = id === null ? undefined : this.requests.get(id);
    if (id === null || request === undefined) {
      if (error) this.opts.onError(error);
      return;
    }
    this.requests.delete(id);
    if (request.kind === "event") {
      if (error) request.reject(new HandlerError(error));
      else request.resolve();
      return;
    }
    const { name } = request;
    const flight = this.inFlight.get(name);
    if (flight && flight.count > 1) flight.count -= 1;
    else this.inFlight.delete(name);
    // Without a kernel value newer than the set, the kernel now holds what was sent.
    if (!error && this.version(name) === request.version) this.kernel.set(name, request.value);
    if (error) this.opts.onError(error);
    if (!this.isLocal(name)) {
      const value = this.kernel.get(name);
      if (this.opts.store.get(name) !== value) this.opts.store.write({ [name]: value });
    }
  }

  private kernelValue(name: string): unknown {
    return this.isLocal(name) ? this.kernel.get(name) : this.opts.store.get(name);
  }

  private version(name: string): number {
    return this.versions.get(name) ?? 0;
  }

  private bump(name: string): void {
    this.versions.set(name, this.version(name) + 1);
  }

  /** Show `value(name)` in the store at the next microtask. */
  private schedule(name: string): void {
    if (this.queued) {
      this.queued.add(name);
      return;
    }
    this.queued = new Set([name]);
    this.opts.defer(() => {
      const names = this.queued ?? new Set<string>();
      this.queued = null;
      const values: Record<string, unknown> = {};
      let any = false;
      for (const n of names) {
        const value = this.value(n);
        if (this.opts.store.get(n) !== value) {
          values[n] = value;
          any = true;
        }
      }
      if (any) this.opts.store.write(values);
    });
  }
}

/** The vars (first pointer tokens) a model patch touches; malformed paths are left to `applyPatch`. */
function varNames(ops: Op[]): string[] {
  const names = new Set<string>();
  ops.forEach((op, index) => {
    for (const path of "from" in op ? [op.path, op.from] : [op.path]) {
      let tokens: string[];
      try {
        tokens = parsePointer(path);
      } catch {
        continue;
      }
      const name = tokens[0];
      if (name === undefined) {
        throw new PatchError(`a model patch must address a var, not the whole document`, index, op);
      }
      names.add(name);
    }
  });
  return [...names];
}
