import { expect, it } from "vitest";
import { classify, isSimple } from "../src/view/schema";
import type { JsonSchema } from "../src/protocol";

const COLOR = { enum: ["red", "green"], title: "Color", type: "string" };

// Schemas as pydantic 2 writes them for common annotations.
const cases: [string, JsonSchema, unknown][] = [
  ["int", { type: "integer" }, { kind: "integer", nullable: false }],
  ["float", { type: "number" }, { kind: "number", nullable: false }],
  ["str", { type: "string" }, { kind: "string", nullable: false }],
  ["bool", { type: "boolean" }, { kind: "boolean", nullable: false }],
  ["Optional[int]", { anyOf: [{ type: "integer" }, { type: "null" }] }, { kind: "integer", nullable: true }],
  ["Literal['a','b']", { enum: ["a", "b"], type: "string" }, { kind: "enum", options: ["a", "b"], nullable: false }],
  ["Literal['x']", { const: "x", type: "string" }, { kind: "enum", options: ["x"], nullable: false }],
  ["Color", COLOR, { kind: "enum", options: ["red", "green"], nullable: false }],
  [
    "Optional[Color]",
    { $defs: { Color: COLOR }, anyOf: [{ $ref: "#/$defs/Color" }, { type: "null" }] },
    { kind: "enum", options: ["red", "green"], nullable: true },
  ],
  ["allOf ref", { $defs: { Color: COLOR }, allOf: [{ $ref: "#/$defs/Color" }] }, { kind: "enum", options: ["red", "green"], nullable: false }],
  ["list[str]", { items: { type: "string" }, type: "array" }, { kind: "array", item: { kind: "string", nullable: false }, nullable: false }],
  [
    "list[Color]",
    { $defs: { Color: COLOR }, items: { $ref: "#/$defs/Color" }, type: "array" },
    { kind: "array", item: { kind: "enum", options: ["red", "green"], nullable: false }, nullable: false },
  ],
  ["tuple[int, int]", { prefixItems: [{ type: "integer" }], type: "array" }, { kind: "array", item: { kind: "json", nullable: false }, nullable: false }],
  ["dict[str, int]", { additionalProperties: { type: "integer" }, type: "object" }, { kind: "json", nullable: false }],
  ["Union[int, str]", { anyOf: [{ type: "integer" }, { type: "string" }] }, { kind: "json", nullable: false }],
  ["Any", {}, { kind: "json", nullable: false }],
  ["type list", { type: ["string", "null"] }, { kind: "string", nullable: true }],
  ["dangling ref", { $ref: "#/$defs/Missing" }, { kind: "json", nullable: false }],
  ["self ref", { $defs: { A: { $ref: "#/$defs/A" } }, $ref: "#/$defs/A" }, { kind: "json", nullable: false }],
];

it.each(cases)("classifies %s", (_name, schema, expected) => {
  expect(classify(schema)).toEqual(expected);
});

it("calls scalars and enums simple", () => {
  expect(isSimple(classify({ type: "integer" }))).toBe(true);
  expect(isSimple(classify(COLOR))).toBe(true);
  expect(isSimple(classify({ type: "object" }))).toBe(false);
  expect(isSimple(classify({ items: { type: "string" }, type: "array" }))).toBe(false);
});
