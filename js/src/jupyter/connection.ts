/**
 * Whether a kernel answers: one probe per kernel connection, so a page opened without a kernel
 * (saved widget state, nbconvert HTML, nbviewer, a notebook reopened before its kernel runs)
 * shows the last values read-only with a note instead of controls that do nothing.
 *
 * The runtime sends `{type: "ping"}` over the first model of a connection; any nbstate message
 * from the kernel (its `pong`, a patch, an answer) marks the connection live. Without an answer
 * within `CONNECT_TIMEOUT_MS` it is offline until one arrives, so a kernel that was merely busy
 * (a cell blocking its event loop) comes back by itself. A host without `model.send` (Panel) is
 * offline for good. The connection of a model is its `widget_manager` (one per kernel connection
 * in ipywidgets); a host that gives each model a manager of its own probes per model.
 *
 * A request left unanswered is watched: after `ANSWER_CHECK_MS` without any message from the
 * kernel the runtime pings it, and without an answer within `CONNECT_TIMEOUT_MS` the connection
 * is offline (saying why and what to do) and the requests still waiting fail with that reason,
 * so a button never stays busy for a kernel that died or restarted. A kernel that was only busy
 * comes back with its next message; a late answer to a failed request is dropped.
 *
 * Every event and set also carries `client` (one per connection) and `seq` (1, 2, 3, … across
 * that connection's models): JupyterLab may send comm messages over a kernel subshell once it is
 * ready and over the main shell before, so two messages can reach the kernel out of order, and
 * the kernel runs them in `seq` order.
 */

import { newClientId } from "../core/client";
import type { AnyModel } from "./widget";

export const CONNECT_TIMEOUT_MS = 3000;
/** How long requests may wait in silence before the kernel is pinged. */
export const ANSWER_CHECK_MS = 5000;

export type Status = "unknown" | "live" | "offline";

/** A sender of requests the connection watches: whether any awaits an answer; fail them all. */
export interface Waiter {
  awaiting(): boolean;
  fail(reason: string): void;
}

const now = (): number => globalThis.performance?.now?.() ?? Date.now();

export class Connection {
  status: Status = "unknown";
  /** Why it is offline, in words for the view. */
  reason = "";
  readonly client = newClientId();
  private next = 1;
  private probed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watchers = new Set<() => void>();
  /** Senders with requests out, the model the last one left through, and the silence timer. */
  private waiters = new Set<Waiter>();
  private via: AnyModel | undefined;
  private silence: ReturnType<typeof setTimeout> | undefined;
  private heard = 0;
  private lastHeard = now();
  private waitingSince = 0;

  /** Stamp an outgoing event or set with the client id and the next sequence number. */
  stamp<M extends object>(message: M): M & { client: string; seq: number } {
    return { ...message, client: this.client, seq: this.next++ };
  }

  /** Ask the kernel behind `model` once whether it is there. */
  probe(model: AnyModel): void {
    if (this.probed) return;
    this.probed = true;
    if (typeof model.send !== "function") {
      this.set("offline", "This page cannot send messages to the kernel: the values are shown read-only.");
      return;
    }
    this.timer = setTimeout(() => {
      if (this.status === "unknown") {
        this.set("offline", "The kernel is not connected: these are the last saved values, read-only.");
      }
    }, CONNECT_TIMEOUT_MS);
    try {
      model.send({ type: "ping" });
    } catch {
      // a host that throws has no kernel; the timer says so
    }
  }

  /** The kernel said something. */
  answered(): void {
    this.heard += 1;
    this.lastHeard = now();
    if (this.status === "live") return;
    clearTimeout(this.timer);
    this.set("live", "");
  }

  /** `waiter` sent a request through `model`: it gets an answer, or fails saying why not. */
  sent(waiter: Waiter, model: AnyModel): void {
    this.waiters.add(waiter);
    this.via = model;
    if (this.silence === undefined) {
      this.waitingSince = now();
      this.silence = setTimeout(() => this.checkSilence(), ANSWER_CHECK_MS);
    }
  }

  private checkSilence(): void {
    this.silence = undefined;
    for (const waiter of [...this.waiters]) if (!waiter.awaiting()) this.waiters.delete(waiter);
    if (this.waiters.size === 0) return;
    const quiet = now() - Math.max(this.lastHeard, this.waitingSince);
    if (quiet < ANSWER_CHECK_MS) {
      this.silence = setTimeout(() => this.checkSilence(), ANSWER_CHECK_MS - quiet);
      return;
    }
    const heard = this.heard;
    try {
      this.via?.send?.({ type: "ping" });
    } catch {
      // a kernel that cannot be reached: the timer says so
    }
    this.silence = setTimeout(() => {
      this.silence = undefined;
      if (this.heard !== heard) {
        this.waitingSince = now();
        this.checkSilence();
        return;
      }
      const seconds = Math.round((now() - Math.max(this.lastHeard, this.waitingSince)) / 1000);
      this.set("offline", `The kernel has not answered for ${seconds} s: it is busy with long work, ` +
        "or it stopped. If it stopped, restart it and run the notebook again.");
      const waiters = [...this.waiters];
      this.waiters.clear();
      for (const waiter of waiters) waiter.fail(this.reason);
    }, CONNECT_TIMEOUT_MS);
  }

  /** Call `watcher` on every change of status; returns the unsubscribe. */
  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private set(status: Status, reason: string): void {
    this.status = status;
    this.reason = reason;
    for (const watcher of [...this.watchers]) watcher();
  }
}

const connections = new WeakMap<object, Connection>();

export function connectionOf(model: AnyModel): Connection {
  const key: object = model.widget_manager ?? model;
  let connection = connections.get(key);
  if (!connection) {
    connection = new Connection();
    connections.set(key, connection);
  }
  return connection;
}
