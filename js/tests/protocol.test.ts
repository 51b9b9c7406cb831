import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { MESSAGE_TYPES, PROTOCOL_VERSION } from "../src/protocol";

const python = readFileSync(fileURLToPath(new URL("../../nbstate/protocol.py", import.meta.url)), "utf8");

it("has the Python protocol's version", () => {
  const match = /^PROTOCOL_VERSION = (\d+)$/m.exec(python);
  expect(Number(match?.[1])).toBe(PROTOCOL_VERSION);
});

it("has the Python protocol's message type tags", () => {
  // Every `type: Literal["…"]` field of a TypedDict in protocol.py is a message tag.
  const tags = [...python.matchAll(/^\s+type: Literal\["(\w+)"\]$/gm)].map((m) => m[1]);
  expect(tags.length).toBeGreaterThan(0);
  expect([...MESSAGE_TYPES].sort()).toEqual([...new Set(tags)].sort());
});
