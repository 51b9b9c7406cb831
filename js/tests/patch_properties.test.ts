/**
 * Properties of the JS applier on random documents and random valid patches.
 *
 * Patches are built against the document they will meet: a small mutable model in this file
 * (written plainly, without the applier's copy-on-write) applies each generated operation so the
 * next one can pick a location that exists. The model's result is also the expected result.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyPatch, PatchError } from "../src/core/patch";
import type { Op } from "../src/protocol";
import { canonical, deepFreeze } from "./support/json";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Tokens = string[];

// NBSTATE_PROPERTY_RUNS raises the count for a longer local run
const RUNS = { numRuns: Number(process.env.NBSTATE_PROPERTY_RUNS ?? 300) };

// ----------------------------------------------------------------------------- documents

// pointer escapes, array-like tokens and names that live on Object.prototype
const key = fc.oneof(
  fc.constantFrom("a", "b", "", "~", "/", "~1", "0", "-", "__proto__", "constructor", "toString"),
  fc.string({ maxLength: 2 }),
);
const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -2, max: 3 }),
  fc.string({ maxLength: 3 }),
);
// Object.fromEntries defines members, so "__proto__" is an own member as in JSON.parse output
const json = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 3, depthIdentifier: "json" },
    leaf,
    fc.array(tie("node"), { maxLength: 4, depthIdentifier: "json" }),
    fc
      .array(fc.tuple(key, tie("node")), { maxLength: 4, depthIdentifier: "json" })
      .map((entries) => Object.fromEntries(entries) as Json),
  ),
})).node;
const container = json.filter((v) => typeof v === "object" && v !== null);

// ----------------------------------------------------------------------------- the model

const isContainer = (v: unknown): v is Json[] | { [key: string]: Json } =>
  typeof v === "object" && v !== null;
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const escape = (t: string): string => t.replace(/~/g, "~0").replace(/\//g, "~1");
const ptr = (tokens: Tokens): string => tokens.map((t) => "/" + escape(t)).join("");
const unescape = (t: string): string => t.replace(/~1/g, "/").replace(/~0/g, "~");
const tokensOf = (p: string): Tokens => (p === "" ? [] : p.slice(1).split("/").map(unescape));

function at(doc: Json, tokens: Tokens): Json {
  let node = doc;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[Number(t)] as Json;
    else node = (node as { [key: string]: Json })[t] as Json;
  }
  return node;
}

function setMember(obj: { [key: string]: Json }, k: string, value: Json): void {
  Object.defineProperty(obj, k, { value, writable: true, enumerable: true, configurable: true });
}

/** Every location in `doc`, the root first. */
function locations(doc: Json): Tokens[] {
  const out: Tokens[] = [];
  const walk = (node: Json, tokens: Tokens): void => {
    out.push(tokens);
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...tokens, String(i)]));
    else if (isContainer(node)) Object.keys(node).forEach((k) => walk(node[k] as Json, [...tokens, k]));
  };
  walk(doc, []);
  return out;
}

function modelAdd(doc: Json, tokens: Tokens, value: Json): Json {
  if (tokens.length === 0) return value;
  const parent = at(doc, tokens.slice(0, -1));
  const last = tokens.at(-1) as string;
  if (Array.isArray(parent)) parent.splice(last === "-" ? parent.length : Number(last), 0, value);
  else setMember(parent as { [key: string]: Json }, last, value);
  return doc;
}

function modelRemove(doc: Json, tokens: Tokens): Json {
  const parent = at(doc, tokens.slice(0, -1));
  const last = tokens.at(-1) as string;
  if (Array.isArray(parent)) return parent.splice(Number(last), 1)[0] as Json;
  const value = (parent as { [key: string]: Json })[last] as Json;
  delete (parent as { [key: string]: Json })[last];
  return value;
}

/** Apply one operation known to be valid, in place; returns the new root. */
function modelApply(doc: Json, op: Op): Json {
  const path = tokensOf(op.path);
  switch (op.op) {
    case "add":
      return modelAdd(doc, path, structuredClone(op.value as Json));
    case "remove":
      modelRemove(doc, path);
      return doc;
    case "replace":
      if (path.length === 0) return structuredClone(op.value as Json);
      modelRemove(doc, path);
      return modelAdd(doc, path, structuredClone(op.value as Json));
    case "move": {
      const value = modelRemove(doc, tokensOf(op.from));
      return modelAdd(doc, path, value);
    }
    case "copy":
      return modelAdd(doc, path, structuredClone(at(doc, tokensOf(op.from))));
    case "test":
      return doc;
  }
}

/** A copy with every object's members in reverse order: the same JSON value. */
function reordered(value: Json): Json {
  if (Array.isArray(value)) return value.map(reordered);
  if (!isContainer(value)) return value;
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(value).reverse()) setMember(out, k, reordered(value[k] as Json));
  return out;
}

// ----------------------------------------------------------------------------- patches

interface Seed {
  kind: number;
  a: number;
  b: number;
  key: string;
  value: Json;
}

const seed: fc.Arbitrary<Seed> = fc.record({
  kind: fc.nat(5),
  a: fc.nat(40),
  b: fc.nat(40),
  key,
  value: json,
});

/** Where an `add` at container `c` may go: an index, "-" or any member name. */
function addPath(doc: Json, c: Tokens, s: Seed): Tokens {
  const node = at(doc, c);
  if (Array.isArray(node)) {
    const i = s.b % (node.length + 2);
    return [...c, i > node.length ? "-" : String(i)];
  }
  return [...c, s.key];
}

function containersIn(doc: Json): Tokens[] {
  return locations(doc).filter((t) => isContainer(at(doc, t)));
}

/** One valid operation for `doc` chosen by `s`, or undefined when the document has no room. */
function makeOp(doc: Json, s: Seed): Op | undefined {
  const all = locations(doc);
  const inner = all.filter((t) => t.length > 0);
  const pick = <T>(xs: T[]): T => xs[s.a % xs.length] as T;
  switch (s.kind) {
    case 0: {
      const containers = containersIn(doc);
      if (containers.length === 0) return { op: "add", path: "", value: s.value };
      return { op: "add", path: ptr(addPath(doc, pick(containers), s)), value: s.value };
    }
    case 1:
      return inner.length ? { op: "remove", path: ptr(pick(inner)) } : undefined;
    case 2:
      // the root now and then: "replace" may swap the whole document
      const where = s.b % 8 === 0 || inner.length === 0 ? all : inner;
      return { op: "replace", path: ptr(pick(where)), value: s.value };
    case 3: {
      if (!inner.length) return undefined;
      const from = pick(inner);
      const after = structuredClone(doc);
      modelRemove(after, from);
      const targets = containersIn(after);
      if (!targets.length) return undefined;
      const to = ptr(addPath(after, targets[s.b % targets.length] as Tokens, s));
      // RFC 6902 §4.4: "from" must not be a proper prefix of "path", read as text
      if (to.startsWith(ptr(from) + "/")) return undefined;
      return { op: "move", from: ptr(from), path: to };
    }
    case 4: {
      const containers = containersIn(doc);
      if (!containers.length) return undefined;
      const to = addPath(doc, containers[s.b % containers.length] as Tokens, s);
      return { op: "copy", from: ptr(pick(all)), path: ptr(to) };
    }
    default: {
      const t = pick(all);
      return { op: "test", path: ptr(t), value: reordered(at(doc, t)) };
    }
  }
}

/** A valid patch for `doc` and the document it must produce. */
function build(doc: Json, seeds: Seed[]): { ops: Op[]; result: Json } {
  let current = structuredClone(doc);
  const ops: Op[] = [];
  for (const s of seeds) {
    const op = makeOp(current, s);
    if (op === undefined) continue;
    ops.push(op);
    current = modelApply(current, op);
  }
  return { ops, result: current };
}

const docAndPatch = fc
  .tuple(container, fc.array(seed, { minLength: 1, maxLength: 8 }))
  .map(([doc, seeds]) => ({ doc, ...build(doc, seeds) }));

// ----------------------------------------------------------------------------- properties

describe("applyPatch properties", () => {
  it("copies an ancestor that the same patch already edited without making a cycle", () => {
    // found by the first property: the copy put the edited root inside itself
    const out = applyPatch([] as unknown[], [
      { op: "add", path: "/-", value: 0 },
      { op: "copy", from: "", path: "/0" },
    ]);
    expect(canonical(out)).toBe("[[0],0]");
    const nested = applyPatch({ a: { b: 1 } } as Json, [
      { op: "add", path: "/a/c", value: 2 },
      { op: "copy", from: "/a", path: "/a/d" },
      { op: "add", path: "/a/d/e", value: 3 },
    ]);
    expect(canonical(nested)).toBe('{"a":{"b":1,"c":2,"d":{"b":1,"c":2,"e":3}}}');
  });

  it("applies a valid patch as the model does and never mutates its input", () => {
    fc.assert(
      fc.property(docAndPatch, ({ doc, ops, result }) => {
        const input = deepFreeze(structuredClone(doc));
        const frozenOps = deepFreeze(structuredClone(ops));
        const before = [canonical(input), canonical(frozenOps)];
        const out = applyPatch(input, frozenOps);
        expect([canonical(input), canonical(frozenOps)]).toEqual(before);
        expect(canonical(out)).toBe(canonical(result));
      }),
      RUNS,
    );
  });

  it("restores the document after add then remove at the same path", () => {
    const addThenRemove = fc
      .tuple(container, fc.nat(40), fc.nat(40), key, json)
      .map(([doc, a, b, k, value]) => {
        const containers = containersIn(doc);
        const c = containers[a % containers.length] as Tokens;
        const node = at(doc, c);
        let tokens: Tokens;
        let removeAt: Tokens;
        if (Array.isArray(node)) {
          const i = b % (node.length + 2);
          tokens = [...c, i > node.length ? "-" : String(i)];
          removeAt = [...c, String(Math.min(i, node.length))];
        } else {
          // an absent member, or the add would replace and the remove could not restore it
          let name = k;
          while (hasOwn(node as object, name)) name += "+";
          tokens = removeAt = [...c, name];
        }
        return { doc, value, add: ptr(tokens), remove: ptr(removeAt) };
      });
    fc.assert(
      fc.property(addThenRemove, ({ doc, value, add, remove }) => {
        const input = deepFreeze(structuredClone(doc));
        const ops: Op[] = [
          { op: "add", path: add, value },
          { op: "remove", path: remove },
        ];
        expect(canonical(applyPatch(input, ops))).toBe(canonical(doc));
        const added = applyPatch(input, ops.slice(0, 1));
        expect(canonical(applyPatch(added, ops.slice(1)))).toBe(canonical(doc));
      }),
      RUNS,
    );
  });

  it("is atomic: a failing operation throws and leaves the document as it was", () => {
    const failing = fc
      .tuple(docAndPatch, fc.nat(5), fc.nat(40), key, fc.array(seed, { maxLength: 3 }))
      .map(([{ doc, ops, result }, kind, a, k, tail]) => {
        const all = locations(result);
        const t = all[a % all.length] as Tokens;
        const node = at(result, t);
        let missing = k;
        while (isContainer(node) && !Array.isArray(node) && hasOwn(node, missing)) missing += "+";
        const absent = Array.isArray(node) ? [...t, String(node.length)] : [...t, missing];
        const bad: Op[] = [
          { op: "test", path: ptr(t), value: { never: [node] } },
          { op: "remove", path: ptr(absent) },
          { op: "replace", path: ptr(absent), value: 1 },
          { op: "add", path: ptr([...absent, "x"]), value: 1 },
          { op: "move", from: ptr(absent), path: ptr([...t.slice(0, -1), "x"]) },
          { op: "copy", from: ptr(absent), path: "" },
        ];
        // each fails at `t`: `absent` names no member (a scalar at `t` has none at all), and
        // no value equals an object that holds it
        const op = bad[kind] as Op;
        const after = build(result, tail).ops;
        return { doc, ops: [...ops, op, ...after], index: ops.length };
      });
    fc.assert(
      fc.property(failing, ({ doc, ops, index }) => {
        const input = deepFreeze(structuredClone(doc));
        const before = canonical(input);
        let error: unknown;
        try {
          applyPatch(input, ops);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(PatchError);
        expect((error as PatchError).index).toBe(index);
        expect(canonical(input)).toBe(before);
      }),
      RUNS,
    );
  });

  it("gives the same result applied one operation at a time", () => {
    fc.assert(
      fc.property(docAndPatch, ({ doc, ops }) => {
        const input = deepFreeze(structuredClone(doc));
        const whole = applyPatch(input, ops);
        let stepwise: unknown = input;
        for (const op of ops) stepwise = deepFreeze(applyPatch(stepwise, [op]));
        expect(canonical(stepwise)).toBe(canonical(whole));
      }),
      RUNS,
    );
  });
});
