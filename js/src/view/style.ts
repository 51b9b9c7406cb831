/**
 * The default view's stylesheet, injected once per document. Colours come from JupyterLab's CSS
 * variables (so light and dark themes both work) with neutral fallbacks for other hosts.
 */

const STYLE_ID = "nbstate-style";

const CSS = `
.nbstate-view{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-ui-font-size1,13px);color:var(--jp-ui-font-color1,inherit);background:var(--jp-layout-color1,transparent);border:1px solid var(--jp-border-color2,#d4d4d4);border-radius:4px;padding:8px 10px;margin:4px 0}
.nbstate-title{font-weight:600;margin:0 0 6px}
.nbstate-field{display:flex;gap:8px;align-items:baseline;margin:3px 0}
.nbstate-label{min-width:8em;color:var(--jp-ui-font-color2,#616161)}
.nbstate-view input,.nbstate-view select,.nbstate-view button{font:inherit;color:inherit}
.nbstate-view input:not([type=checkbox]),.nbstate-view select{background:var(--jp-input-background,var(--jp-layout-color1,#fff));border:1px solid var(--jp-input-border-color,var(--jp-border-color1,#9e9e9e));border-radius:3px;padding:2px 4px}
.nbstate-view button{background:var(--jp-layout-color2,#eee);border:1px solid var(--jp-border-color1,#9e9e9e);border-radius:3px;padding:2px 8px;cursor:pointer}
.nbstate-view button:hover{background:var(--jp-layout-color3,#e0e0e0)}
.nbstate-view input[type=number]{width:7em}
.nbstate-list{margin:0;padding-left:1.4em}
.nbstate-add{display:flex;gap:4px;margin:2px 0 0}
.nbstate-list button{padding:0 5px;margin-left:6px}
.nbstate-json{margin:0;font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px);white-space:pre-wrap}
.nbstate-handlers{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:6px}
.nbstate-handlers form{display:inline-flex;flex-wrap:wrap;gap:4px;align-items:center;margin:0}
.nbstate-skipped{color:var(--jp-ui-font-color3,#9e9e9e)}
.nbstate-busy-shown{cursor:progress}
.nbstate-busy-shown [data-nb-running=true]{opacity:.6}
.nbstate-error{color:var(--jp-error-color1,#c62828);background:var(--jp-error-color3,rgba(198,40,40,.08));border-radius:3px;padding:4px 6px;margin:4px 0;white-space:pre-wrap}
.nbstate-error[hidden]{display:none}
.nbstate-children{margin-top:6px;padding-left:8px;border-left:2px solid var(--jp-border-color2,#e0e0e0)}
`;

export function ensureStyle(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}
