/**
 * RFC 6901 JSON Pointers: parsing into reference tokens and back.
 *
 * `""` is the whole document; otherwise a pointer is `/`-separated tokens in which `~1` stands
 * for `/` and `~0` for `~` (decoded in that order, so `~01` is the literal `~1`).
 */

export class PointerError extends Error {
  override name = "PointerError";
}

/** Split a JSON Pointer into unescaped reference tokens. Throws `PointerError` when malformed. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) {
    throw new PointerError(`JSON Pointer ${JSON.stringify(pointer)} must be "" or start with "/"`);
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~[^01]|~$/.test(token)) {
        throw new PointerError(
          `JSON Pointer ${JSON.stringify(pointer)} has an invalid escape in ${JSON.stringify(token)} (only ~0 and ~1 are allowed)`,
        );
      }
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

/** Escape one reference token (`~` → `~0`, `/` → `~1`). */
export function escapeToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Build a JSON Pointer from reference tokens: `pointer("todo", "items", 3)` → `/todo/items/3`. */
export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => "/" + escapeToken(String(t))).join("");
}

/**
 * Read an array index token. `-` (one past the end) is accepted only when `allowEnd` is set;
 * leading zeros, signs and non-digits are rejected, as RFC 6901 §4 requires.
 */
export function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (token === "-") {
    if (allowEnd) return length;
    throw new PointerError(`"-" (past the end) is not a valid index here`);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PointerError(`${JSON.stringify(token)} is not an array index`);
  }
  const index = Number(token);
  const max = allowEnd ? length : length - 1;
  if (index > max) {
    throw new PointerError(`index ${index} is out of bounds for an array of length ${length}`);
  }
  return index;
}
