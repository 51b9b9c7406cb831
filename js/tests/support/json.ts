/** Helpers for tests that compare JSON documents. */

/**
 * A JSON value as text with object members sorted by key: two values are equal JSON (RFC 8259,
 * member order aside) exactly when their texts are equal, so `true` never equals `1`. Built by
 * hand so a member named `__proto__` is read and written as the plain member it is.
 */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    const members = Object.keys(obj)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(obj[key])}`);
    return `{${members.join(",")}}`;
  }
  // undefined, functions and symbols have no JSON text: show them rather than drop them
  return JSON.stringify(value) ?? `<${typeof value}>`;
}

/** Freeze a value and everything in it: a later write throws (ES modules are strict). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    Object.values(value).forEach(deepFreeze);
  }
  return value;
}
