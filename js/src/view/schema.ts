/**
 * Reading pydantic's JSON Schemas for the default view: which control fits a var or a param.
 *
 * Handles what pydantic 2 writes for the usual annotations: `type` (also as a list with
 * `"null"`), `format` (`date-time`, `date`, `time`), bounds (`minimum`, `maximum`,
 * `multipleOf`), `enum` (Literal with several values, Enum classes behind `$ref: "#/$defs/X"`),
 * `const` (a one-value Literal), `anyOf: [X, {type: null}]` (Optional), a one-element `allOf`
 * around a `$ref`, `items` for lists, `properties` for models and `additionalProperties` for
 * dicts. Anything else is `json`: edited as JSON text.
 */

import type { JsonSchema } from "../protocol";
import { isObject } from "../core/json";
import { parsePointer } from "../core/pointer";

interface Common {
  nullable: boolean;
}

export type Field =
  | (Common & { kind: "boolean" | "string" | "json" | "date" | "datetime" | "time" })
  | (Common & { kind: "integer" | "number"; min?: number; max?: number; step?: number })
  | (Common & { kind: "enum"; options: unknown[] })
  | (Common & { kind: "array"; item: Field })
  | (Common & { kind: "dict"; value: Field })
  | (Common & { kind: "object"; props: Prop[] });

/** One field of a model (a pydantic model's or dataclass's property). */
export interface Prop {
  name: string;
  /** pydantic's title: the `Field(title=...)` or the name in plain words. */
  label: string;
  help?: string;
  field: Field;
  required: boolean;
  /** Present when the schema gives a default. */
  default?: unknown;
}

const FORMATS: Record<string, "date" | "datetime" | "time"> = { "date-time": "datetime", date: "date", time: "time" };
const MAX_DEPTH = 16;

/** Classify `schema`; `$ref`s resolve against `root` (the var's or param's whole schema). */
export function classify(schema: JsonSchema, root: JsonSchema = schema, depth = 0): Field {
  const json: Field = { kind: "json", nullable: false };
  if (depth > MAX_DEPTH) return json;
  const s = resolve(schema, root);
  if (!s) return json;
  const next = (sub: unknown) => (isObject(sub) ? classify(sub as JsonSchema, root, depth + 1) : json);

  const alternatives = s.anyOf ?? s.oneOf ?? (s.allOf?.length === 1 ? s.allOf : undefined);
  if (alternatives) {
    const rest = alternatives.filter((alt) => resolve(alt, root)?.type !== "null");
    if (rest.length !== 1) return json;
    const field = next(rest[0]);
    return { ...field, nullable: field.nullable || rest.length < alternatives.length };
  }
  if (Array.isArray(s.enum)) return { kind: "enum", options: s.enum, nullable: s.enum.includes(null) };
  if ("const" in s) return { kind: "enum", options: [s.const], nullable: false };

  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  const nullable = types.includes("null");
  const [type, ...others] = types.filter((t) => t !== "null");
  if (type === undefined || others.length > 0) return json;
  switch (type) {
    case "boolean":
      return { kind: "boolean", nullable };
    case "string": {
      const format = typeof s.format === "string" ? FORMATS[s.format] : undefined;
      return { kind: format ?? "string", nullable };
    }
    case "integer":
    case "number":
      return { kind: type, nullable, ...bounds(s) };
    case "array":
      return { kind: "array", item: next(s.items), nullable };
    case "object":
      if (isObject(s.properties)) return { kind: "object", props: props(s, next), nullable };
      if (isObject(s.additionalProperties)) return { kind: "dict", value: next(s.additionalProperties), nullable };
      return { ...json, nullable };
    default:
      return { ...json, nullable };
  }
}

/** True for fields one input holds: scalars, dates and times, enums. */
export function isScalar(field: Field): boolean {
  return !["array", "dict", "object", "json"].includes(field.kind);
}

/** A value to start from for a field without a default: what a new row or param holds. */
export function emptyValue(field: Field): unknown {
  if (field.nullable) return null;
  switch (field.kind) {
    case "boolean":
      return false;
    case "integer":
    case "number":
      return field.min ?? 0;
    case "enum":
      return field.options[0] ?? null;
    case "array":
      return [];
    case "dict":
      return {};
    case "object":
      return Object.fromEntries(field.props.map((p) => [p.name, "default" in p ? p.default : emptyValue(p.field)]));
    case "json":
      return null;
    default:
      return "";
  }
}

function bounds(s: JsonSchema): { min?: number; max?: number; step?: number } {
  const out: { min?: number; max?: number; step?: number } = {};
  if (typeof s.minimum === "number") out.min = s.minimum;
  if (typeof s.maximum === "number") out.max = s.maximum;
  if (typeof s.multipleOf === "number" && s.multipleOf > 0) out.step = s.multipleOf;
  return out;
}

function props(s: JsonSchema, next: (sub: unknown) => Field): Prop[] {
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  return Object.entries(s.properties as Record<string, unknown>).map(([name, sub]) => {
    const schema = isObject(sub) ? (sub as JsonSchema) : {};
    const prop: Prop = {
      name,
      label: typeof schema.title === "string" ? schema.title : humanise(name),
      field: next(sub),
      required: required.has(name),
    };
    if (typeof schema.description === "string") prop.help = schema.description;
    if ("default" in schema) prop.default = schema.default;
    return prop;
  });
}

/** A name in plain words, as the kernel labels vars: `min_stock` → "Min stock". */
export function humanise(name: string): string {
  const words = name.replace(/_/g, " ").trim().replace(/\s+/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Follow local `$ref`s (`#/$defs/Color`, any `#/…` pointer) within `root`. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  let s: JsonSchema | undefined = schema;
  for (let hops = 0; s && typeof s.$ref === "string"; hops++) {
    if (hops > MAX_DEPTH || !s.$ref.startsWith("#")) return undefined;
    let node: unknown = root;
    try {
      for (const key of parsePointer(decodeURIComponent(s.$ref.slice(1)))) {
        node = isObject(node) ? node[key] : undefined;
      }
    } catch {
      return undefined;
    }
    s = isObject(node) ? (node as JsonSchema) : undefined;
  }
  return s;
}
