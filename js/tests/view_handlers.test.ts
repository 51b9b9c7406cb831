// @vitest-environment jsdom
/** The default view's handler buttons and forms, and its errors, on the test shop's spec. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventMessage } from "../src/protocol";
import type { ViewStateSpec } from "../src/view/types";
import { $, enter, mountView, settle, type Harness } from "./support/view_model";

const SPEC = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "data", "shop_spec.json"), "utf8")) as ViewStateSpec;
const VALUES = { name: "Hardware", items: [], prices: {}, address: { street: "", city: "", zip_code: "" }, low: [] };

let view: Harness;
const events = () => view.sent.filter((m): m is EventMessage => m.type === "event");
const lastEvent = () => events().at(-1);

beforeEach(() => {
  document.body.replaceChildren();
  view = mountView(SPEC, VALUES);
});
afterEach(() => view.cleanup());

describe("handler buttons", () => {
  it("are labelled in plain words and described by the handler's docstring", () => {
    const restock = $(view.el, 'button[data-nb-handler="restock"]');
    expect(restock.textContent).toBe("Restock");
    expect(restock.title).toBe("Bring every item up to the minimum stock (slow).");
    expect($(view.el, 'form[data-nb-handler="add_item"] button[type=submit]').textContent).toBe("Add item");
  });

  it("are disabled while their handler runs: a second click sends nothing", async () => {
    const restock = $(view.el, 'button[data-nb-handler="restock"]');
    restock.click();
    restock.click();
    expect(events()).toHaveLength(1);
    expect(restock.getAttribute("aria-disabled")).toBe("true");
    view.answer(events()[0]?.id ?? -1);
    await settle();
    expect(restock.hasAttribute("aria-disabled")).toBe(false);
    restock.click();
    expect(events()).toHaveLength(2);
  });

  it("say 'not connected' when the event cannot be sent, and do not stay busy", async () => {
    view.disconnect("Cannot send");
    const restock = $(view.el, 'button[data-nb-handler="restock"]');
    restock.click();
    await settle();
    const error = $(view.el, '[data-nb-error-for="connection"]');
    expect(error.textContent).toContain("Not connected to the kernel, so this did not run (Cannot send)");
    expect(restock.hasAttribute("aria-busy")).toBe(false);
    expect(restock.hasAttribute("aria-disabled")).toBe(false);
  });
});

describe("handler forms", () => {
  it("edit a model param in a fieldset, submit it, and go back to the defaults after success", async () => {
    const form = $<HTMLFormElement>(view.el, 'form[data-nb-handler="add_item"]');
    expect(form.getAttribute("aria-label")).toBe("Add item");
    const fieldset = $(form, 'fieldset[name="item"]');
    expect(fieldset.querySelector("legend")?.textContent).toBe("Item");
    const name = $<HTMLInputElement>(fieldset, '[data-nb-field="name"]');
    enter(name, "saw");
    enter($<HTMLInputElement>(fieldset, '[data-nb-field="qty"]'), "3");
    form.requestSubmit();
    expect(lastEvent()).toMatchObject({ handler: "add_item", payload: { item: { name: "saw", qty: 3, price: 0, category: "tools" } } });
    expect(form.getAttribute("aria-busy")).toBe("true");
    view.answer(lastEvent()?.id ?? -1);
    await settle();
    expect(name.value).toBe("");
    expect($<HTMLInputElement>(fieldset, '[data-nb-field="qty"]').value).toBe("0");
    form.requestSubmit();
    expect(lastEvent()?.payload).toEqual({ item: { name: "", qty: 0, price: 0, category: "tools" } });
  });

  it("keep what was typed when the handler fails, and show why", async () => {
    const form = $<HTMLFormElement>(view.el, 'form[data-nb-handler="rename"]');
    const name = $<HTMLInputElement>(form, 'input[name="name"]');
    expect(document.getElementById(name.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Shown on the sign");
    enter(name, "  ");
    form.requestSubmit();
    view.answer(lastEvent()?.id ?? -1, { handler: "shop.rename", type: "ValueError", message: "a shop needs a name" });
    await settle();
    expect(name.value).toBe("  ");
    expect($(view.el, '[data-nb-error-for="shop.rename"] .nbstate-error-text').textContent).toBe("shop.rename: ValueError: a shop needs a name");
  });

  it("edit list and dict params; Enter in a list's add box adds, not submits", () => {
    const form = $<HTMLFormElement>(view.el, 'form[data-nb-handler="tag"]');
    const add = $<HTMLInputElement>(form, 'input[data-nb-add="labels"]');
    expect(add.getAttribute("aria-label")).toBe("New Labels item");
    for (const label of ["new", "sale"]) {
      enter(add, label);
      const enterKey = new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true });
      add.dispatchEvent(enterKey);
      expect(enterKey.defaultPrevented).toBe(true);
    }
    expect([...form.querySelectorAll('ul[name="labels"] .nbstate-item')].map((li) => li.textContent)).toEqual(["new", "sale"]);
    expect(events()).toEqual([]);
    enter($<HTMLInputElement>(form, "tfoot input[data-nb-add]"), "rake");
    enter($<HTMLInputElement>(form, "tfoot input[type=number]"), "12.5");
    $(form, "tfoot button").click();
    form.requestSubmit();
    expect(lastEvent()?.payload).toEqual({ labels: ["new", "sale"], reprice: { rake: 12.5 } });
  });
});

describe("errors", () => {
  it("stay until dismissed or until their handler succeeds", async () => {
    const form = $<HTMLFormElement>(view.el, 'form[data-nb-handler="rename"]');
    enter($<HTMLInputElement>(form, 'input[name="name"]'), "");
    form.requestSubmit();
    view.answer(lastEvent()?.id ?? -1, { handler: "shop.rename", type: "ValueError", message: "a shop needs a name" });
    await settle();
    const box = $(view.el, "[data-nb-error]");
    expect(box.getAttribute("role")).toBe("alert");
    // another handler's success leaves it
    $(view.el, 'button[data-nb-handler="restock"]').click();
    view.answer(lastEvent()?.id ?? -1);
    await settle();
    expect(box.hidden).toBe(false);
    // its own success clears it
    enter($<HTMLInputElement>(form, 'input[name="name"]'), "Tools");
    form.requestSubmit();
    view.answer(lastEvent()?.id ?? -1);
    await settle();
    expect(box.hidden).toBe(true);

    // a background handler's error, dismissed by its button
    view.report({ handler: "shop.sync", type: "RuntimeError", message: "offline" });
    view.report({ handler: "shop.audit", type: "RuntimeError", message: "late" });
    expect([...box.querySelectorAll(".nbstate-error-text")].map((e) => e.textContent)).toEqual([
      "shop.sync: RuntimeError: offline",
      "shop.audit: RuntimeError: late",
    ]);
    const dismiss = $<HTMLButtonElement>(box, '[data-nb-error-for="shop.sync"] .nbstate-dismiss');
    expect(dismiss.getAttribute("aria-label")).toBe("Dismiss this error");
    dismiss.focus();
    dismiss.click();
    expect(box.querySelectorAll(".nbstate-error-item")).toHaveLength(1);
    expect(document.activeElement).toBe($(box, '[data-nb-error-for="shop.audit"] .nbstate-dismiss'));
  });

  it("take a runtime's own NotConnected answer as a connection failure", async () => {
    $(view.el, 'button[data-nb-handler="restock"]').click();
    view.answer(lastEvent()?.id ?? -1, { handler: "shop.restock", type: "NotConnected", message: "The kernel is not connected." });
    await settle();
    expect(view.el.querySelector('[data-nb-error-for="shop.restock"]')).toBeNull();
    expect($(view.el, '[data-nb-error-for="connection"]').textContent).toContain("Not connected to the kernel, so this did not run (The kernel is not connected)");
  });

  it("after a connection failure, clear when a handler gets through again", async () => {
    view.disconnect();
    $(view.el, 'button[data-nb-handler="restock"]').click();
    await settle();
    expect(view.el.querySelector('[data-nb-error-for="connection"]')).not.toBeNull();
    view.reconnect();
    $(view.el, 'button[data-nb-handler="restock"]').click();
    view.answer(lastEvent()?.id ?? -1);
    await settle();
    expect(view.el.querySelector('[data-nb-error-for="connection"]')).toBeNull();
  });
});
