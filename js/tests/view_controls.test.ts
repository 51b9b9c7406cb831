// @vitest-environment jsdom
/**
 * The default view's var controls against the spec the kernel writes for the test shop
 * (`data/shop_spec.json`, kept current by tests/jupyter/test_spec.py).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TYPING_DEBOUNCE_MS } from "../src/view/controls";
import { SLIDER_SEND_MS } from "../src/view/scalars";
import type { ViewStateSpec } from "../src/view/types";
import { $, enter, mountView, type, type Harness } from "./support/view_model";

// jsdom's URL is not Node's: read the path from the module's file URL.
const SPEC = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "data", "shop_spec.json"), "utf8")) as ViewStateSpec;

const VALUES = {
  name: "Hardware",
  category: "tools",
  size: "medium",
  min_stock: 5,
  markup: 1.25,
  is_open: true,
  opens_at: "2024-05-01T09:00:00",
  audit_day: "2024-06-30",
  items: [
    { name: "hammer", qty: 13, price: 9.5, category: "tools" },
    { name: "rake", qty: 2, price: 14.0, category: "garden" },
  ],
  prices: { hammer: 9.5, rake: 14.0 },
  address: { street: "1 Main St", city: "Oslo", zip_code: "0150" },
  progress: 0,
  restocks: 0,
  notes: "for custom views",
  low: ["rake"],
};

let view: Harness;
const mount = (values: Record<string, unknown> = {}) => (view = mountView(SPEC, { ...VALUES, ...values }));
const input = (selector: string) => $<HTMLInputElement>(view.el, selector);
const sets = () => view.sent.filter((m) => m.type === "set").map((m) => [m.type === "set" && m.var, m.type === "set" && m.value]);

beforeEach(() => {
  document.body.replaceChildren();
  vi.useFakeTimers();
});
afterEach(() => {
  view?.cleanup();
  vi.useRealTimers();
});

describe("labels and help", () => {
  it("ties every label to its control and help text to the control it describes", () => {
    mount();
    for (const label of view.el.querySelectorAll<HTMLLabelElement>("label.nbstate-label")) {
      const control = document.getElementById(label.htmlFor);
      expect(control, `label ${label.textContent}`).not.toBeNull();
      expect(control?.closest(".nbstate-field")).toBe(label.closest(".nbstate-field"));
    }
    const minStock = input('input[type=number][data-nb-var="min_stock"]');
    expect(view.el.querySelector(`label[for="${minStock.id}"]`)?.textContent).toBe("Min stock");
    const help = document.getElementById(minStock.getAttribute("aria-describedby") ?? "");
    expect(help?.textContent).toBe("Items below this are restocked");
    // a Field title, and a computed var's docstring as help
    expect(view.el.querySelector(`label[for="${input('[data-nb-var="is_open"]').id}"]`)?.textContent).toBe("Open now");
    const low = $(view.el, '[data-nb-var="low"]');
    expect(document.getElementById(low.getAttribute("aria-labelledby") ?? "")?.textContent).toBe("Low");
    expect(document.getElementById(low.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Items below the minimum stock.");
    expect($(view.el, ".nbstate-doc").textContent).toBe("Stock of a small shop.");
  });

  it("leaves hidden vars out and shows read-only vars with no control", () => {
    mount({ progress: 0.5 });
    expect(view.el.querySelector('[data-nb-var="notes"]')).toBeNull();
    for (const name of ["progress", "restocks"]) {
      const el = $(view.el, `[data-nb-var="${name}"]`);
      expect(el.tagName).toBe("OUTPUT");
      expect(el.closest(".nbstate-field")?.querySelector("input, select, textarea, button")).toBeNull();
    }
    expect($(view.el, '[data-nb-var="progress"]').textContent).toBe("0.5");
  });
});

describe("typing", () => {
  it("sends text as the user types, debounced, and at once on change", async () => {
    mount();
    const name = input('[data-nb-var="name"]');
    type(name, " & Co");
    expect(view.model.get("name")).toBe("Hardware & Co"); // local at once
    expect(sets()).toEqual([]);
    await vi.advanceTimersByTimeAsync(TYPING_DEBOUNCE_MS - 1);
    expect(sets()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sets()).toEqual([["name", "Hardware & Co"]]); // one set for the burst
    enter(name, "Tools");
    expect(sets().at(-1)).toEqual(["name", "Tools"]);
    expect(TYPING_DEBOUNCE_MS).toBeLessThanOrEqual(150);
  });

  it("sends what was typed before an event fired during the debounce, in order", async () => {
    mount();
    type(input('[data-nb-var="name"]'), "!");
    $(view.el, '[data-nb-handler="restock"]').click();
    expect(view.sent.map((m) => m.type)).toEqual(["set", "event"]);
    await vi.advanceTimersByTimeAsync(TYPING_DEBOUNCE_MS * 2);
    expect(view.sent).toHaveLength(2); // nothing left to send
  });

  it("never rewrites what the user is typing with an echo of an earlier set", async () => {
    mount();
    const name = input('[data-nb-var="name"]');
    name.value = "";
    type(name, "Ha");
    await vi.advanceTimersByTimeAsync(TYPING_DEBOUNCE_MS);
    type(name, "rd");
    // the kernel applies "Ha" and says so, while "Hard" is still being typed
    view.kernel({ name: "Ha" });
    view.answer(view.sent[0]?.id ?? -1);
    await vi.advanceTimersByTimeAsync(0);
    expect(name.value).toBe("Hard");
    await vi.advanceTimersByTimeAsync(TYPING_DEBOUNCE_MS);
    expect(sets()).toEqual([["name", "Ha"], ["name", "Hard"]]);
    view.kernel({ name: "Hard" });
    view.answer(view.sent[1]?.id ?? -1);
    await vi.advanceTimersByTimeAsync(0);
    expect(name.value).toBe("Hard");
    // a change the kernel makes itself still shows
    view.kernel({ name: "Renamed" });
    await vi.advanceTimersByTimeAsync(0);
    expect(name.value).toBe("Renamed");
  });

  it("sends a number box's text only when it is a number, and shows the value again on leaving", () => {
    mount();
    const markup = input('[data-nb-var="markup"]');
    markup.value = "";
    markup.dispatchEvent(new Event("input"));
    expect(sets()).toEqual([]);
    markup.dispatchEvent(new Event("change"));
    expect(markup.value).toBe("1.25");
    enter(markup, "1.5");
    expect(markup.getAttribute("aria-invalid")).toBe("false");
    expect(sets()).toEqual([["markup", 1.5]]);
  });
});

describe("the control fits the type", () => {
  it("bounded numbers get a slider beside the number box", async () => {
    mount();
    const box = input('input[type=number][data-nb-var="min_stock"]');
    const slider = $<HTMLInputElement>(box.parentElement ?? view.el, "input[type=range]");
    expect([slider.min, slider.max, slider.step, slider.value]).toEqual(["0", "50", "1", "5"]);
    expect([box.min, box.max]).toEqual(["0", "50"]);
    expect(slider.getAttribute("aria-label")).toBe("Min stock");
    slider.value = "20";
    slider.dispatchEvent(new Event("input"));
    expect(box.value).toBe("20");
    slider.dispatchEvent(new Event("change"));
    expect(sets()).toEqual([["min_stock", 20]]);
    view.kernel({ min_stock: 7 });
    await vi.advanceTimersByTimeAsync(0);
    view.answer(view.sent[0]?.id ?? -1);
    await vi.advanceTimersByTimeAsync(0);
    expect([box.value, slider.value]).toEqual(["7", "7"]);
    expect(view.el.querySelector('[data-nb-var="markup"]')?.closest(".nbstate-range")).toBeNull();
  });

  it("a dragged slider sends its value at most every SLIDER_SEND_MS, and the last one", async () => {
    mount();
    const slider = $<HTMLInputElement>(view.el, ".nbstate-range input[type=range]");
    const answered = new Set<number>();
    const answerAll = () => {
      for (const message of view.sent) {
        if (!answered.has(message.id)) {
          answered.add(message.id);
          view.answer(message.id);
        }
      }
    };
    for (let value = 6; value <= 30; value++) {
      slider.value = String(value);
      slider.dispatchEvent(new Event("input")); // a drag: input events, 16 ms apart
      answerAll();
      await vi.advanceTimersByTimeAsync(16);
    }
    const during = sets().map(([, value]) => value);
    // 25 moves over 400 ms: a first send, then one per 100 ms (never one per move)
    expect(during.length).toBeGreaterThanOrEqual(3);
    expect(during.length).toBeLessThanOrEqual(1 + Math.ceil((25 * 16) / SLIDER_SEND_MS));
    expect(during[0]).toBe(6);
    await vi.advanceTimersByTimeAsync(TYPING_DEBOUNCE_MS);
    answerAll();
    expect(sets().at(-1)).toEqual(["min_stock", 30]); // the hand stopped: the last value goes
  });

  it("dates and date-times use the browser's pickers and keep a datetime's zone", () => {
    mount({ opens_at: "2024-05-01T09:00:00+02:00" });
    const when = input('[data-nb-var="opens_at"]');
    const day = input('[data-nb-var="audit_day"]');
    expect([when.type, when.step]).toEqual(["datetime-local", "1"]);
    expect(when.value).toMatch(/^2024-05-01T09:00(:00)?$/); // browsers drop ":00" seconds
    expect([day.type, day.value]).toEqual(["date", "2024-06-30"]);
    enter(when, "2024-05-02T10:30");
    enter(day, "2024-07-01");
    expect(sets()).toEqual([["opens_at", "2024-05-02T10:30:00+02:00"], ["audit_day", "2024-07-01"]]);
  });

  it("enums and literals get a select; a checkbox for booleans", () => {
    mount();
    const category = $<HTMLSelectElement>(view.el, 'select[data-nb-var="category"]');
    expect([...category.options].map((o) => o.textContent)).toEqual(["tools", "garden", "kitchen"]);
    expect($<HTMLSelectElement>(view.el, 'select[data-nb-var="size"]').selectedIndex).toBe(1);
    category.selectedIndex = 2;
    category.dispatchEvent(new Event("change"));
    input('[data-nb-var="is_open"]').click();
    expect(sets()).toEqual([["category", "kitchen"], ["is_open", false]]);
  });

  it("a list of models is a table with editable cells, remove buttons and an add button", async () => {
    mount();
    const table = $<HTMLTableElement>(view.el, 'table[data-nb-var="items"]');
    expect([...table.tHead!.rows[0]!.cells].map((c) => c.textContent)).toEqual(["Name", "Qty", "Price", "Category", "Remove"]);
    const qty = $<HTMLInputElement>(table, 'tr[data-nb-index="1"] [data-nb-cell="qty"] input');
    expect([qty.type, qty.value, qty.min, qty.getAttribute("aria-label")]).toEqual(["number", "2", "0", "Qty, row 2"]);
    qty.focus();
    type(qty, "0");
    await vi.advanceTimersByTimeAsync(TYPING_DEBOUNCE_MS);
    expect(sets()).toEqual([["items", [VALUES.items[0], { ...VALUES.items[1], qty: 20 }]]]);
    expect(document.activeElement).toBe(qty); // updated in place while typing
    $(table, 'tr[data-nb-index="0"] button[data-nb-remove]').click();
    expect(sets().at(-1)).toEqual(["items", [{ ...VALUES.items[1], qty: 20 }]]);
    await vi.advanceTimersByTimeAsync(0);
    expect(table.tBodies[0]!.rows).toHaveLength(1);
    $(view.el, 'button[data-nb-add="items"]').click();
    expect(sets().at(-1)).toEqual(["items", [{ ...VALUES.items[1], qty: 20 }, { name: "", qty: 0, price: 0, category: "tools" }]]);
  });

  it("a dict is a key/value table; a new key is added, a taken one refused", async () => {
    mount();
    const table = $<HTMLTableElement>(view.el, 'table[data-nb-var="prices"]');
    expect([...table.tBodies[0]!.rows].map((r) => r.cells[0]?.textContent)).toEqual(["hammer", "rake"]);
    enter($<HTMLInputElement>(table, '[data-nb-key="rake"]'), "15");
    expect(sets().at(-1)).toEqual(["prices", { hammer: 9.5, rake: 15 }]);
    const key = $<HTMLInputElement>(table, "tfoot input[data-nb-add]");
    const value = $<HTMLInputElement>(table, "tfoot input[type=number]");
    enter(key, "rake");
    $(table, "tfoot button").click();
    expect(key.getAttribute("aria-invalid")).toBe("true");
    enter(key, "saw");
    enter(value, "21");
    $(table, "tfoot button").click();
    expect(sets().at(-1)).toEqual(["prices", { hammer: 9.5, rake: 15, saw: 21 }]);
    expect(key.value).toBe("");
    $(table, 'button[data-nb-remove="hammer"]').click();
    expect(sets().at(-1)).toEqual(["prices", { rake: 15, saw: 21 }]);
  });

  it("a nested model is a fieldset of labelled fields", () => {
    mount();
    const fieldset = $<HTMLFieldSetElement>(view.el, 'fieldset[data-nb-var="address"]');
    expect(fieldset.querySelector("legend")?.textContent).toBe("Address");
    const zip = $<HTMLInputElement>(fieldset, '[data-nb-field="zip_code"]');
    expect(fieldset.querySelector(`label[for="${zip.id}"]`)?.textContent).toBe("ZIP code");
    enter(zip, "0151");
    expect(sets()).toEqual([["address", { ...VALUES.address, zip_code: "0151" }]]);
  });

  it("a read-only list of strings is a plain list", () => {
    mount();
    expect([...view.el.querySelectorAll('ul[data-nb-var="low"] li')].map((li) => li.textContent)).toEqual(["rake"]);
    expect(view.el.querySelector('ul[data-nb-var="low"] button')).toBeNull();
  });
});

describe("errors of a var", () => {
  it("show a refused set until the var is edited again, and can be dismissed", async () => {
    mount();
    const markup = input('[data-nb-var="markup"]');
    enter(markup, "-1");
    await vi.advanceTimersByTimeAsync(0);
    view.answer(view.sent[0]?.id ?? -1, { handler: "shop.markup", type: "VarTypeError", message: "shop.markup must be ≥ 0" });
    await vi.advanceTimersByTimeAsync(0);
    const error = $(view.el, "[data-nb-error]");
    expect(error.hidden).toBe(false);
    expect($(error, '[data-nb-error-for="shop.markup"]').textContent).toContain("shop.markup must be ≥ 0");
    expect(markup.value).toBe("1.25"); // reverted
    expect(markup.closest("[data-nb-row]")?.getAttribute("data-nb-invalid")).toBe("true");
    enter(markup, "2");
    expect(error.hidden).toBe(true);
    expect(markup.closest("[data-nb-row]")?.hasAttribute("data-nb-invalid")).toBe(false);

    view.report({ handler: "shop.markup", type: "VarTypeError", message: "again" });
    $(error, ".nbstate-dismiss").click();
    expect(error.hidden).toBe(true);
  });

  it("say 'not connected' when a set cannot be sent", () => {
    mount();
    view.disconnect();
    enter(input('[data-nb-var="name"]'), "x");
    expect($(view.el, '[data-nb-error-for="connection"]').textContent).toMatch(/^Not connected to the kernel.*Cannot send.*restart the kernel.*reload the page/);
  });
});

describe("cleanup", () => {
  it("sends typing still waiting for the debounce", () => {
    mount();
    type(input('[data-nb-var="name"]'), "!");
    view.cleanup();
    expect(sets()).toEqual([["name", "Hardware!"]]);
    expect(view.el.childNodes).toHaveLength(0);
  });
});
