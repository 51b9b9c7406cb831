/**
 * Wire messages of nbstate: the TypeScript mirror of `nbstate/protocol.py`.
 *
 * Deltas are RFC 6902 JSON Patch operation lists whose paths are RFC 6901 JSON Pointers. In
 * Jupyter each state is one widget model, so a patch addresses that model's vars (`/items/-`).
 * The messages travel as custom messages of the Jupyter widget message spec (`method: "custom"`,
 * `model.send(content)` / the `msg:custom` event). `tests/protocol.test.ts` checks that the type
 * tags and the version here agree with the Python file.
 */

/** Bumped on any incompatible change; the runtime refuses to drive a state of another version. */
export const PROTOCOL_VERSION = 1;

/** One RFC 6902 operation. nbstate emits add/remove/replace; the applier accepts all six. */
export type Op =
  | { op: "add"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: unknown }
  | { op: "move"; from: string; path: string }
  | { op: "copy"; from: string; path: string }
  | { op: "test"; path: string; value: unknown };

export interface ErrorInfo {
  /** `"<state path>.<handler>"`, e.g. `"todo.add"`; for a rejected set, the var's path. */
  handler: string;
  /** The Python exception class name. */
  type: string;
  message: string;
}

// Browser → kernel.

export interface EventMessage {
  type: "event";
  id: number;
  handler: string;
  payload: Record<string, unknown>;
  /** The sending connection and its message number: the kernel runs them in this order. */
  client?: string;
  seq?: number;
}

export interface SetMessage {
  type: "set";
  id: number;
  var: string;
  value: unknown;
  /** WebSocket only: the state's path (in Jupyter the model's comm names it). */
  state?: string;
  client?: string;
  seq?: number;
}

/** Asks the kernel for the runtime bundle's source, once per page. */
export interface RuntimeRequestMessage {
  type: "runtime_request";
}

// Kernel → browser.

export interface DoneMessage {
  type: "done";
  id: number;
}

export interface ErrorMessage {
  type: "error";
  /** The event's or set's id; `null` for a background handler's error. */
  id: number | null;
  error: ErrorInfo;
}

export interface PatchMessage {
  type: "patch";
  rev: number;
  ops: Op[];
}

export interface RuntimeMessage {
  type: "runtime";
  source: string;
}

/** WebSocket adapter, client → server first frame. */
export interface HelloMessage {
  type: "hello";
  protocol: number;
  token: string | null;
  rev: number | null;
  /** The client reads a `done` carried by a delta (`DeltaMessage.done`). */
  done_in_delta?: boolean;
}

/** WebSocket adapter, server → client answer to `hello`. */
export interface WelcomeMessage {
  type: "welcome";
  protocol: number;
  token: string;
  rev: number;
}

/** WebSocket adapter: the whole session document at `rev`. */
export interface SnapshotMessage {
  type: "snapshot";
  rev: number;
  document: Record<string, Record<string, unknown>>;
}

/** WebSocket adapter: one delta, paths relative to the session document. */
export interface DeltaMessage {
  type: "delta";
  rev: number;
  ops: Op[];
  /** The id of the event or set this delta ended, in place of a `done` frame after it. */
  done?: number;
}

export interface PingMessage {
  type: "ping";
}

export interface PongMessage {
  type: "pong";
}

export type OutgoingMessage = EventMessage | SetMessage | RuntimeRequestMessage;
export type IncomingMessage = DoneMessage | ErrorMessage | PatchMessage | RuntimeMessage;
export type SocketOutgoing = HelloMessage | EventMessage | SetMessage | PingMessage | PongMessage;
export type SocketIncoming =
  | WelcomeMessage
  | SnapshotMessage
  | DeltaMessage
  | DoneMessage
  | ErrorMessage
  | PingMessage
  | PongMessage;

/** Every message type tag, both directions. */
export const MESSAGE_TYPES = [
  "event",
  "set",
  "runtime_request",
  "done",
  "error",
  "patch",
  "runtime",
  "hello",
  "welcome",
  "snapshot",
  "delta",
  "ping",
  "pong",
] as const satisfies readonly (OutgoingMessage | IncomingMessage | SocketOutgoing | SocketIncoming)["type"][];

/** The kernel's description of one state class, synced as the `_nb_spec` trait. */
export interface StateSpec {
  protocol: number;
  /** Dotted state path, e.g. `"todo.filters"`. */
  path: string;
  title: string;
  vars: VarSpec[];
  handlers: HandlerSpec[];
}

export interface VarSpec {
  name: string;
  /** An `output` carries a mime bundle (`{mime type: data}`), shown below the controls. */
  kind: "base" | "computed" | "output";
  /** JSON Schema from pydantic; may hold `$defs` addressed by `#/$defs/<Name>`. */
  schema: JsonSchema;
}

export interface HandlerSpec {
  name: string;
  doc: string;
  background: boolean;
  params: ParamSpec[];
}

export interface ParamSpec {
  name: string;
  required: boolean;
  default?: unknown;
  schema: JsonSchema;
}

/** The subset of JSON Schema (as pydantic writes it) that the default view reads. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  [key: string]: unknown;
}

/** True for the nbstate messages a kernel sends; anything else on `msg:custom` is not ours. */
export function isIncoming(content: unknown): content is IncomingMessage {
  if (typeof content !== "object" || content === null) return false;
  const type = (content as { type?: unknown }).type;
  return type === "done" || type === "error" || type === "patch" || type === "runtime";
}
