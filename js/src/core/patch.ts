/**
 * RFC 6902 JSON Patch, applied immutably.
 *
 * `applyPatch(doc, ops)` returns a new document and never mutates `doc` or the ops: only the
 * containers along the paths an operation touches are copied, everything else is shared with the
 * input (so a caller can tell which top-level members changed by identity). The patch is atomic:
 * when any operation fails, `PatchError` is thrown and no result exists, the input being intact.
 *
 * Containers copied during one call are "owned" by it and edited in place by later operations of
 * the same patch, so a patch of n operations at depth d costs O(n + d · copies), not O(n · size).
 */

import type { Op } from "../protocol";
import { deepEqual, hasOwn, isContainer, isObject, type JsonObject } from "./json";
import { arrayIndex, parsePointer, pointer, PointerError } from "./pointer";

/** A patch could not be applied; `index` is the failing operation's position in the patch. */
export class PatchError extends Error {
  override name = "PatchError";
  constructor(
    message: string,
    readonly index: number,
    readonly operation: unknown,
  ) {
    super(message);
  }
}

type Container = JsonObject | unknown[];

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/** Apply RFC 6902 `ops` to `doc`; see the module docstring. Throws `PatchError`. */
export function applyPatch<T>(doc: T, ops: readonly Op[]): T {
  if (!Array.isArray(ops)) throw new PatchError("a JSON Patch must be an array of operations", -1, ops);
  const applier = new Applier(doc);
  ops.forEach((op, index) => {
    try {
      applier.apply(checkOp(op));
    } catch (error) {
      if (!(error instanceof PointerError || error instanceof OpError)) throw error;
      throw new PatchError(`${describe(op)} (operation ${index}): ${error.message}`, index, op);
    }
  });
  return applier.root as T;
}

/** A failure inside one operation; `applyPatch` rewraps it with the operation's position. */
class OpError extends Error {}

function describe(op: unknown): string {
  if (typeof op !== "object" || op === null) return "operation";
  const { op: name, path } = op as { op?: unknown; path?: unknown };
  return `${typeof name === "string" ? name : "operation"} ${JSON.stringify(path)}`;
}

function checkOp(op: unknown): Op {
  if (typeof op !== "object" || op === null || Array.isArray(op)) {
    throw new OpError("an operation must be an object");
  }
  const o = op as Record<string, unknown>;
  if (typeof o.op !== "string" || !OPS.has(o.op)) {
    throw new OpError(`unknown "op" ${JSON.stringify(o.op)}; expected one of ${[...OPS].join(", ")}`);
  }
  if (typeof o.path !== "string") throw new OpError(`"path" must be a string`);
  if ((o.op === "add" || o.op === "replace" || o.op === "test") && o.value === undefined) {
    throw new OpError(`"${o.op}" needs a "value"`);
  }
  if ((o.op === "move" || o.op === "copy") && typeof o.from !== "string") {
    throw new OpError(`"${o.op}" needs a string "from"`);
  }
  return op as Op;
}

class Applier {
  /** Containers created by this patch: safe to edit in place. */
  private owned = new WeakSet<object>();

  constructor(public root: unknown) {}

  apply(op: Op): void {
    switch (op.op) {
      case "add":
        return this.add(parsePointer(op.path), op.value);
      case "remove":
        this.remove(parsePointer(op.path));
        return;
      case "replace":
        return this.replace(parsePointer(op.path), op.value);
      case "move": {
        const from = parsePointer(op.from);
        const to = parsePointer(op.path);
        if (op.from === op.path) {
          this.get(from);
          return;
        }
        if (op.path.startsWith(op.from + "/")) {
          throw new OpError(`cannot move ${JSON.stringify(op.from)} into its own child`);
        }
        return this.add(to, this.remove(from));
      }
      case "copy": {
        const value = this.get(parsePointer(op.from));
        // The value will sit at two places, so editing either in place would change both; and
        // when it is an ancestor of `path`, editing it in place would put it inside itself.
        // Forgetting what this patch owns first makes the add copy the path, value included.
        this.owned = new WeakSet();
        this.add(parsePointer(op.path), value);
        return;
      }
      case "test": {
        const actual = this.get(parsePointer(op.path));
        if (!deepEqual(actual, op.value)) {
          throw new OpError(`test failed: the value is ${JSON.stringify(actual)}`);
        }
        return;
      }
    }
  }

  private get(tokens: string[]): unknown {
    let node = this.root;
    tokens.forEach((token, depth) => {
      node = child(node, token, tokens, depth);
    });
    return node;
  }

  private add(tokens: string[], value: unknown): void {
    const last = tokens.at(-1);
    if (last === undefined) {
      this.root = value;
      return;
    }
    const parent = this.parentOf(tokens);
    if (Array.isArray(parent)) {
      parent.splice(arrayIndex(last, parent.length, true), 0, value);
    } else {
      setMember(parent, last, value);
    }
  }

  private remove(tokens: string[]): unknown {
    const last = tokens.at(-1);
    if (last === undefined) throw new OpError("cannot remove the whole document");
    const parent = this.parentOf(tokens);
    if (Array.isArray(parent)) {
      return parent.splice(arrayIndex(last, parent.length, false), 1)[0];
    }
    if (!hasOwn(parent, last)) throw new OpError(`${quote(tokens)} does not exist`);
    const value = parent[last];
    delete parent[last];
    return value;
  }

  private replace(tokens: string[], value: unknown): void {
    const last = tokens.at(-1);
    if (last === undefined) {
      this.root = value;
      return;
    }
    const parent = this.parentOf(tokens);
    if (Array.isArray(parent)) {
      parent[arrayIndex(last, parent.length, false)] = value;
    } else {
      if (!hasOwn(parent, last)) throw new OpError(`${quote(tokens)} does not exist`);
      setMember(parent, last, value);
    }
  }

  /** The container holding the last token, made writable by copying the path down to it. */
  private parentOf(tokens: string[]): Container {
    this.root = this.own(this.root, []);
    let node = this.root as Container;
    for (let depth = 0; depth < tokens.length - 1; depth++) {
      const token = tokens[depth] as string;
      const next = this.own(child(node, token, tokens, depth), tokens.slice(0, depth + 1));
      if (Array.isArray(node)) node[Number(token)] = next;
      else setMember(node, token, next);
      node = next;
    }
    return node;
  }

  private own(node: unknown, at: string[]): Container {
    if (!isContainer(node)) throw new OpError(`${quote(at)} is not an object or array`);
    if (this.owned.has(node)) return node;
    const copy: Container = Array.isArray(node) ? node.slice() : { ...node };
    this.owned.add(copy);
    return copy;
  }
}

function child(node: unknown, token: string, tokens: string[], depth: number): unknown {
  const at = tokens.slice(0, depth + 1);
  if (Array.isArray(node)) {
    try {
      return node[arrayIndex(token, node.length, false)];
    } catch (error) {
      throw new OpError(`${quote(at)}: ${(error as Error).message}`);
    }
  }
  if (isObject(node) && hasOwn(node, token)) return node[token];
  throw new OpError(`${quote(at)} does not exist`);
}

/** Assign a member without invoking the `__proto__` setter. */
function setMember(obj: JsonObject, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

function quote(tokens: string[]): string {
  return JSON.stringify(pointer(...tokens));
}
