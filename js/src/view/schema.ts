/**
 * Reading pydantic's JSON Schemas for the default view: which control fits a var or a param.
 *
 * Handles what pydantic 2 writes for the usual annotations: `type` (also as a list with
 * `"null"`), `enum` (Literal with several values, Enum classes behind `$ref: "#/$defs/X"`),
 * `const` (a one-value Literal), `anyOf: [X, {type: null}]` (Optional), a one-element `allOf`
 * around a `$ref`, and `items` for lists. Anything else is `json`: shown, not edited.
 */

import type { JsonSchema } from "../protocol";
import { isObject } from "../core/json";
import { parsePointer } from "../core/pointer";

export type Field =
  | { kind: "boolean" | "integer" | "number" | "string" | "json"; nullable: boolean }
  | { kind: "enum"; options: unknown[]; nullable: boolean }
  | { kind: "array"; item: Field; nullable: boolean };

const SCALARS = new Set(["boolean", "integer", "number", "string"]);

/** Classify `schema`; `$ref`s resolve against `root` (the var's or param's whole schema). */
export function classify(schema: JsonSchema, root: JsonSchema = schema, depth = 0): Field {
  const json: Field = { kind: "json", nullable: false };
  if (depth > 16) return json;
  const s = resolve(schema, root);
  if (!s) return json;
  const next = (sub: JsonSchema) => classify(sub, root, depth + 1);

  const alternatives = s.anyOf ?? s.oneOf ?? (s.allOf?.length === 1 ? s.allOf : undefined);
  if (alternatives) {
    const rest = alternatives.filter((alt) => resolve(alt, root)?.type !== "null");
    if (rest.length !== 1) return json;
    const field = next(rest[0] as JsonSchema);
    return { ...field, nullable: field.nullable || rest.length < alternatives.length };
  }
  if (Array.isArray(s.enum)) return { kind: "enum", options: s.enum, nullable: s.enum.includes(null) };
  if ("const" in s) return { kind: "enum", options: [s.const], nullable: false };

  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  const nullable = types.includes("null");
  const [type, ...others] = types.filter((t) => t !== "null");
  if (type === undefined || others.length > 0) return json;
  if (SCALARS.has(type)) return { kind: type as "boolean" | "integer" | "number" | "string", nullable };
  if (type === "array") {
    return { kind: "array", item: isObject(s.items) ? next(s.items as JsonSchema) : json, nullable };
  }
  return { ...json, nullable };
}

/** True when a form input can hold the field: a scalar or an enum. */
export function isSimple(field: Field): boolean {
  return field.kind === "enum" || SCALARS.has(field.kind);
}

/** Follow local `$ref`s (`#/$defs/Color`, any `#/…` pointer) within `root`. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  let s: JsonSchema | undefined = schema;
  for (let hops = 0; s && typeof s.$ref === "string"; hops++) {
    if (hops > 16 || !s.$ref.startsWith("#")) return undefined;
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
