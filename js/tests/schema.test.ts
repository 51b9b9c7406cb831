import { expect, it } from "vitest";
import { classify, emptyValue, humanise, isScalar } from "../src/view/schema";
import type { JsonSchema } from "../src/protocol";

const COLOR = { enum: ["red", "green"], title: "Color", type: "string" };
const ITEM = {
  properties: {
    name: { title: "Name", type: "string" },
    qty: { default: 0, minimum: 0, title: "Quantity", description: "On the shelf", type: "integer" },
    color: { $ref: "#/$defs/Color" },
  },
  required: ["name"],
  title: "Item",
  type: "object",
};

// Schemas as pydantic 2 writes them for common annotations.
const cases: [string, JsonSchema, unknown][] = [
  ["int", { type: "integer" }, { kind: "integer", nullable: false }],
  ["float", { type: "number" }, { kind: "number", nullable: false }],
  ["str", { type: "string" }, { kind: "string", nullable: false }],
  ["bool", { type: "boolean" }, { kind: "boolean", nullable: false }],
  ["Optional[int]", { anyOf: [{ type: "integer" }, { type: "null" }] }, { kind: "integer", nullable: true }],
  ["Field(ge=0, le=10)", { type: "integer", minimum: 0, maximum: 10 }, { kind: "integer", nullable: false, min: 0, max: 10 }],
  ["Field(gt=0, multiple_of=.5)", { type: "number", exclusiveMinimum: 0, multipleOf: 0.5 }, { kind: "number", nullable: false, step: 0.5 }],
  ["datetime", { format: "date-time", type: "string" }, { kind: "datetime", nullable: false }],
  ["date", { format: "date", type: "string" }, { kind: "date", nullable: false }],
  ["time", { format: "time", type: "string" }, { kind: "time", nullable: false }],
  ["Optional[date]", { anyOf: [{ format: "date", type: "string" }, { type: "null" }] }, { kind: "date", nullable: true }],
  ["uuid (other formats are text)", { format: "uuid", type: "string" }, { kind: "string", nullable: false }],
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
  ["dict[str, int]", { additionalProperties: { type: "integer" }, type: "object" }, { kind: "dict", value: { kind: "integer", nullable: false }, nullable: false }],
  ["dict (no value type)", { type: "object" }, { kind: "json", nullable: false }],
  ["Union[int, str]", { anyOf: [{ type: "integer" }, { type: "string" }] }, { kind: "json", nullable: false }],
  ["Any", {}, { kind: "json", nullable: false }],
  ["type list", { type: ["string", "null"] }, { kind: "string", nullable: true }],
  ["dangling ref", { $ref: "#/$defs/Missing" }, { kind: "json", nullable: false }],
  ["self ref", { $defs: { A: { $ref: "#/$defs/A" } }, $ref: "#/$defs/A" }, { kind: "json", nullable: false }],
];

it.each(cases)("classifies %s", (_name, schema, expected) => {
  expect(classify(schema)).toEqual(expected);
});

it("reads a model's fields: labels, help, required, defaults, $refs", () => {
  const field = classify({ $defs: { Color: COLOR, Item: ITEM }, items: { $ref: "#/$defs/Item" }, type: "array" });
  expect(field.kind).toBe("array");
  const item = field.kind === "array" ? field.item : field;
  expect(item).toEqual({
    kind: "object",
    nullable: false,
    props: [
      { name: "name", label: "Name", field: { kind: "string", nullable: false }, required: true },
      {
        name: "qty",
        label: "Quantity",
        help: "On the shelf",
        field: { kind: "integer", nullable: false, min: 0 },
        required: false,
        default: 0,
      },
      // a $ref'd field carries no title: its name in plain words
      { name: "color", label: "Color", field: { kind: "enum", options: ["red", "green"], nullable: false }, required: false },
    ],
  });
});

it("stops at nesting too deep to show", () => {
  let schema: JsonSchema = { type: "integer" };
  for (let i = 0; i < 40; i++) schema = { items: schema, type: "array" };
  let field = classify(schema);
  let depth = 0;
  while (field.kind === "array") {
    field = field.item;
    depth++;
  }
  expect(field.kind).toBe("json");
  expect(depth).toBeLessThan(20);
});

it("calls one-input fields scalar", () => {
  expect(isScalar(classify({ type: "integer" }))).toBe(true);
  expect(isScalar(classify(COLOR))).toBe(true);
  expect(isScalar(classify({ format: "date-time", type: "string" }))).toBe(true);
  expect(isScalar(classify({ type: "object" }))).toBe(false);
  expect(isScalar(classify({ items: { type: "string" }, type: "array" }))).toBe(false);
});

it("starts new values from defaults or empty values", () => {
  const item = classify({ $defs: { Color: COLOR }, ...ITEM });
  expect(emptyValue(item)).toEqual({ name: "", qty: 0, color: "red" });
  expect(emptyValue(classify({ type: "integer", minimum: 3 }))).toBe(3);
  expect(emptyValue(classify({ anyOf: [{ type: "integer" }, { type: "null" }] }))).toBeNull();
  expect(emptyValue(classify({ additionalProperties: { type: "integer" }, type: "object" }))).toEqual({});
  expect(emptyValue(classify({ type: "boolean" }))).toBe(false);
});

it("puts names in plain words as the kernel does", () => {
  expect(humanise("min_stock")).toBe("Min stock");
  expect(humanise("HTTP_code")).toBe("HTTP code");
  expect(humanise("x")).toBe("X");
});
