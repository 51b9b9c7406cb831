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
 * Every event and set also carries `client` (one per connection) and `seq` (1, 2, 3, … across
 * that connection's models): JupyterLab may send comm messages over a kernel subshell once it is
 * ready and over the main shell before, so two messages can reach the kernel out of order, and
 * the kernel runs them in `seq` order.
 */

import { newClientId } from "../core/client";
import type { AnyModel } from "./widget";

export const CONNECT_TIMEOUT_MS = 3000;

export type Status = "unknown" | "live" | "offline";

export class Connection {
  status: Status = "unknown";
  /** Why it is offline, in words for the view. */
  reason = "";
  readonly client = newClientId();
  private next = 1;
  private probed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watchers = new Set<() => void>();

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
    if (this.status === "live") return;
    clearTimeout(this.timer);
    this.set("live", "");
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
