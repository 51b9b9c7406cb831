/**
 * Replays deltas recorded by the Python core with the JS applier.
 *
 * `tests/test_js_applier.py` writes random cases (a first snapshot, then every delta with the
 * snapshot after it) to a JSON file and runs this file with NBSTATE_CROSS_CASES pointing to it.
 * Like a client, the test applies each delta in order to its own copy (starting from the first
 * snapshot) and compares it with the snapshot the core had after that delta. Every input is
 * frozen, so the applier is also shown never to mutate it. Without the variable there is nothing
 * to replay and the one test says so.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyPatch } from "../src/core/patch";
import type { Op } from "../src/protocol";
import { canonical, deepFreeze } from "./support/json";

interface Step {
  ops: Op[];
  expected: unknown;
}

interface Case {
  id: number;
  first: unknown;
  steps: Step[];
}

const file = process.env.NBSTATE_CROSS_CASES;

if (file === undefined || file === "") {
  describe("cross-apply", () => {
    it("has no cases: NBSTATE_CROSS_CASES is unset (pytest tests/test_js_applier.py sets it)", () => {
      console.info("cross_apply: nothing replayed; `pytest tests/test_js_applier.py` runs this with cases");
    });
  });
} else {
  const cases = JSON.parse(readFileSync(file, "utf8")) as Case[];

  describe(`cross-apply: ${file}`, () => {
    it("read the cases", () => {
      expect(cases.length).toBeGreaterThan(0);
    });

    it.each(cases.map((c) => [c.id, c] as const))("case %i", (_id, c) => {
      let doc: unknown = deepFreeze(structuredClone(c.first));
      c.steps.forEach((step, index) => {
        const before = canonical(doc);
        const where = `case ${c.id}, delta ${index + 1} of ${c.steps.length}: ${JSON.stringify(step.ops)}`;
        const next = applyPatch(doc, deepFreeze(structuredClone(step.ops)));
        expect(canonical(doc), `${where} changed its input`).toBe(before);
        expect(canonical(next), where).toBe(canonical(step.expected));
        doc = deepFreeze(next);
      });
    });
  });
}
