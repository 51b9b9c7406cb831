import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { applyPatch, PatchError } from "../src/core/patch";
import type { Op } from "../src/protocol";

interface Case {
  comment?: string;
  doc?: unknown;
  patch?: Op[];
  expected?: unknown;
  error?: string;
  disabled?: boolean;
}

// The public json-patch-tests suite, copied into the repository unchanged (see its NOTICE).
const dir = new URL("../../tests/data/json-patch/", import.meta.url);
// Records per file, comments and disabled ones included: a truncated copy fails, not shrinks.
const RECORDS: Record<string, number> = { "tests.json": 62, "spec_tests.json": 17 };

function read(name: string): Case[] {
  const path = fileURLToPath(new URL(name, dir));
  // A missing file fails the whole file here; it must never shrink to zero cases.
  if (!existsSync(path)) throw new Error(`${path} is missing: the conformance data ships in the repository`);
  return JSON.parse(readFileSync(path, "utf8")) as Case[];
}

function load(name: string): [string, Case][] {
  return read(name)
    .filter((r) => !r.disabled && r.patch !== undefined)
    .map((r, i) => [`${name} #${i}: ${r.comment ?? r.error ?? JSON.stringify(r.patch)}`, r]);
}

describe("JSON Patch conformance data", () => {
  it("is the suite's full copy, with its notice", () => {
    for (const [name, count] of Object.entries(RECORDS)) expect(read(name)).toHaveLength(count);
    expect(load("tests.json").length + load("spec_tests.json").length).toBe(77);
    const notice = readFileSync(fileURLToPath(new URL("NOTICE", dir)), "utf8");
    expect(notice).toContain("json-patch-tests");
    expect(notice).toContain("Apache License, Version 2.0");
    expect(notice).toContain("Copyright 2012 The Authors");
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe.each(["tests.json", "spec_tests.json"])("JSON Patch conformance: %s", (file) => {
  it.each(load(file))("%s", (_name, record) => {
    const before = JSON.stringify(record.doc);
    // Frozen input: any mutation of the document or the ops throws in strict mode.
    const doc = deepFreeze(structuredClone(record.doc));
    const ops = deepFreeze(structuredClone(record.patch ?? []));
    if (record.error !== undefined) {
      expect(() => applyPatch(doc, ops)).toThrow(PatchError);
    } else {
      const result = applyPatch(doc, ops);
      if ("expected" in record) expect(result).toEqual(record.expected);
    }
    expect(JSON.stringify(doc)).toBe(before);
  });
});

describe("applyPatch", () => {
  it("never mutates its input and shares untouched subtrees", () => {
    const doc = deepFreeze({ a: { list: [1, 2] }, b: { deep: { x: 1 } }, c: [{ y: 1 }, { y: 2 }] });
    const out = applyPatch(doc, [
      { op: "add", path: "/a/list/-", value: 3 },
      { op: "replace", path: "/c/1/y", value: 20 },
    ]);
    expect(out).toEqual({ a: { list: [1, 2, 3] }, b: { deep: { x: 1 } }, c: [{ y: 1 }, { y: 20 }] });
    expect(out).not.toBe(doc);
    expect(out.b).toBe(doc.b);
    expect(out.c[0]).toBe(doc.c[0]);
    expect(out.c[1]).not.toBe(doc.c[1]);
    expect(doc.a.list).toEqual([1, 2]);
  });

  it("is atomic: a failing op leaves no partial result", () => {
    const doc = { items: ["a"], n: 1 };
    expect(() =>
      applyPatch(doc, [
        { op: "add", path: "/items/-", value: "b" },
        { op: "replace", path: "/n", value: 2 },
        { op: "remove", path: "/missing" },
      ]),
    ).toThrow(PatchError);
    expect(doc).toEqual({ items: ["a"], n: 1 });
  });

  it("names the failing operation and its position", () => {
    try {
      applyPatch({ a: 1 }, [
        { op: "test", path: "/a", value: 1 },
        { op: "remove", path: "/b/c" },
      ]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PatchError);
      expect((error as PatchError).index).toBe(1);
      expect((error as Error).message).toBe('remove "/b/c" (operation 1): "/b" does not exist');
    }
  });

  it("edits containers created earlier in the same patch in place", () => {
    const out = applyPatch({ xs: [] as number[] }, [
      { op: "add", path: "/xs/-", value: 1 },
      { op: "add", path: "/xs/-", value: 2 },
      { op: "add", path: "/xs/0", value: 0 },
    ]);
    expect(out.xs).toEqual([0, 1, 2]);
  });

  it("keeps copied values independent", () => {
    const out = applyPatch({ a: { v: [1] } } as Record<string, unknown>, [
      { op: "add", path: "/a/v/-", value: 2 },
      { op: "copy", from: "/a", path: "/b" },
      { op: "add", path: "/b/v/-", value: 3 },
    ]);
    expect(out).toEqual({ a: { v: [1, 2] }, b: { v: [1, 2, 3] } });
  });

  it("does not touch prototypes", () => {
    const out = applyPatch({} as Record<string, unknown>, [
      { op: "add", path: "/__proto__", value: { polluted: true } },
    ]);
    expect(Object.keys(out)).toEqual(["__proto__"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(() => applyPatch({}, [{ op: "test", path: "/toString", value: 1 }])).toThrow(PatchError);
  });

  it("rejects malformed operations", () => {
    const bad = [
      { op: "add", path: "/a" },
      { op: "jump", path: "/a" },
      { op: "move", path: "/a" },
      { op: "remove", path: "a" },
      { op: "remove", path: "/a~2" },
      { op: "remove", path: "" },
      { op: "move", from: "/a", path: "/a/b" },
    ] as unknown as Op[];
    for (const op of bad) expect(() => applyPatch({ a: {} }, [op]), JSON.stringify(op)).toThrow(PatchError);
  });
});
