// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { initialize, render } from "../src/jupyter/runtime";
import { markdownToHtml } from "../src/view/markdown";
import { ERROR_MIME, renderBundle } from "../src/view/outputs";
import { anywidgetProxy, kernelModel, settle, type Kernel } from "./support/widgets";

const PNG_A = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const PNG_B = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const SALES_SPEC = {
  protocol: 1,
  path: "sales",
  title: "Sales",
  vars: [
    { name: "months", kind: "base", schema: { type: "integer" } },
    { name: "chart", kind: "output", read_only: true, schema: { type: "object" } },
    { name: "table", kind: "output", read_only: true, schema: { type: "object" } },
  ],
  handlers: [{ name: "reset", doc: "", background: false, params: [] }],
};

function mount(spec: unknown, state: Record<string, unknown>): Kernel & { el: HTMLElement } {
  const kernel = kernelModel({ _nb_spec: spec, _nb_view: "", _nb_children: [], ...state });
  const el = document.createElement("div");
  document.body.append(el);
  initialize({ model: anywidgetProxy(kernel.model, {}) });
  render({ model: anywidgetProxy(kernel.model), el });
  return { ...kernel, el };
}

beforeEach(() => document.body.replaceChildren());

describe("outputs in the default view", () => {
  it("shows each output under the controls and follows new bundles", async () => {
    const k = mount(SALES_SPEC, {
      months: 3,
      chart: { "image/png": PNG_A, "text/plain": "<Figure size 600x300>" },
      table: { "text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "1" },
    });
    const outputs = k.el.querySelector(".nbstate-outputs")!;
    expect(k.el.querySelector('.nbstate-handlers + .nbstate-outputs')).toBe(outputs);
    expect(k.el.querySelector('[data-nb-var="chart"]')).toBeNull();
    const img = outputs.querySelector<HTMLImageElement>('[data-nb-output="chart"] img')!;
    expect(img.src).toBe(`data:image/png;base64,${PNG_A}`);
    expect(img.alt).toBe("<Figure size 600x300>");
    expect(outputs.querySelector('[data-nb-output="table"] td')!.textContent).toBe("1");
    await k.update({ chart: { "image/png": PNG_B, "text/plain": "<Figure size 600x300>" } });
    await settle();
    const again = outputs.querySelector<HTMLImageElement>('[data-nb-output="chart"] img')!;
    expect(again).toBe(img); // the same element: no layout jump
    expect(again.src).toBe(`data:image/png;base64,${PNG_B}`);
  });

  it("shows an error in place and the next bundle replaces it", async () => {
    const error = { ename: "ZeroDivisionError", evalue: "division by zero", traceback: ["  File \"<cell>\", line 3, in chart", "ZeroDivisionError: division by zero"] };
    const k = mount(SALES_SPEC, { months: 0, chart: { [ERROR_MIME]: error, "text/plain": "x" }, table: {} });
    const area = k.el.querySelector('[data-nb-output="chart"]')!;
    expect(area.querySelector("[role=alert] pre")!.textContent).toContain("line 3, in chart");
    expect(k.el.querySelector('button[data-nb-handler="reset"]')).not.toBeNull();
    await k.update({ chart: { "text/markdown": "**ok**" } });
    await settle();
    expect(area.querySelector("[role=alert]")).toBeNull();
    expect(area.querySelector("strong")!.textContent).toBe("ok");
  });

  it("shows a free output bare: no title, no frame", () => {
    const spec = { protocol: 1, path: "output-summary", title: "", vars: [{ name: "summary", kind: "output", schema: {} }], handlers: [] };
    const k = mount(spec, { summary: { "text/plain": "north" } });
    expect(k.el.querySelector(".nbstate-title")).toBeNull();
    expect(k.el.querySelector(".nbstate-view")!.classList.contains("nbstate-view-bare")).toBe(true);
    expect(k.el.querySelector('[data-nb-output="summary"] pre')!.textContent).toBe("north");
  });
});

describe("renderBundle", () => {
  it("picks the richest mime type and shows nothing for an empty bundle", () => {
    const el = document.createElement("div");
    renderBundle(el, { "text/plain": "<svg>", "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'/>" });
    expect(el.dataset.nbMime).toBe("image/svg+xml");
    expect(el.querySelector("img")!.src.startsWith("data:image/svg+xml")).toBe(true);
    renderBundle(el, { "application/json": { a: 1 } });
    expect(el.querySelector("pre")!.textContent).toBe('{\n  "a": 1\n}');
    renderBundle(el, {});
    expect(el.childElementCount).toBe(0);
    expect(el.dataset.nbMime).toBeUndefined();
  });
});

describe("markdownToHtml", () => {
  it("renders the common subset and escapes everything else", () => {
    expect(markdownToHtml("**north**: 1,234")).toBe("<p><strong>north</strong>: 1,234</p>");
    expect(markdownToHtml("# Title\n\n- a\n- *b*\n\n`x<y`")).toBe(
      "<h1>Title</h1><ul><li>a</li><li><em>b</em></li></ul><p><code>x&lt;y</code></p>",
    );
    expect(markdownToHtml("<script>alert(1)</script>")).toBe("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    expect(markdownToHtml("[x](javascript:alert(1)) [y](https://a.b)")).toBe(
      '<p>x) <a href="https://a.b" target="_blank" rel="noopener">y</a></p>',
    );
  });
});
