/**
 * The default view's stylesheet, injected once per document. Colours come from JupyterLab's CSS
 * variables (so its light and dark themes, and Voila's, both work) with neutral fallbacks for
 * other hosts. Text keeps to the theme's first two font colours, which meet WCAG AA contrast on
 * its layout colours; errors are marked by a border, not by red text on a red tint.
 */

const STYLE_ID = "nbstate-style";

const CSS = `
.nbstate-view{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-ui-font-size1,13px);line-height:1.4;color:var(--jp-ui-font-color1,#212121);background:var(--jp-layout-color1,#fff);border:1px solid var(--jp-border-color2,#d4d4d4);border-radius:4px;padding:8px 10px;margin:4px 0}
[data-jp-theme-light=false] .nbstate-view{color-scheme:dark}
.nbstate-view:focus{outline:none}
.nbstate-title{font-weight:600;font-size:var(--jp-ui-font-size2,15px);margin:0 0 2px}
.nbstate-doc{color:var(--jp-ui-font-color2,#616161);margin:0 0 6px}
.nbstate-vars{display:flex;flex-direction:column;gap:6px;margin:6px 0}
.nbstate-field{display:flex;gap:10px;align-items:baseline;min-width:0}
.nbstate-field-group{align-items:flex-start}
.nbstate-label{flex:0 0 10em;font-weight:500;color:var(--jp-ui-font-color1,#212121);overflow-wrap:anywhere}
.nbstate-control{flex:1 1 auto;min-width:0;display:flex;flex-direction:column;gap:2px;align-items:flex-start}
.nbstate-help{color:var(--jp-ui-font-color2,#616161);font-size:var(--jp-ui-font-size0,11px)}
.nbstate-sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
.nbstate-view input,.nbstate-view select,.nbstate-view button,.nbstate-view textarea{font:inherit;color:inherit}
.nbstate-view input:not([type=checkbox]):not([type=range]),.nbstate-view select,.nbstate-view textarea{background:var(--jp-input-background,var(--jp-layout-color1,#fff));border:1px solid var(--jp-input-border-color,var(--jp-border-color1,#8a8a8a));border-radius:3px;padding:2px 5px;min-height:1.6em;box-sizing:border-box}
.nbstate-view input[type=checkbox],.nbstate-view input[type=range]{accent-color:var(--jp-brand-color1,#1976d2);margin:0}
.nbstate-view input[type=checkbox]{width:15px;height:15px}
.nbstate-view input[type=number]{width:8em}
.nbstate-view input[type=text],.nbstate-view textarea{width:18em;max-width:100%}
.nbstate-view input[aria-invalid=true],.nbstate-view textarea[aria-invalid=true]{border-color:var(--jp-error-color1,#c62828);box-shadow:0 0 0 1px var(--jp-error-color1,#c62828)}
.nbstate-view output{white-space:pre-wrap}
.nbstate-view :focus-visible{outline:2px solid var(--jp-brand-color1,#1976d2);outline-offset:1px}
.nbstate-view button{background:var(--jp-layout-color2,#eee);border:1px solid var(--jp-border-color1,#8a8a8a);border-radius:3px;padding:2px 10px;cursor:pointer}
.nbstate-view button:hover{background:var(--jp-layout-color3,#e0e0e0)}
.nbstate-view button[aria-disabled=true]{cursor:not-allowed}
.nbstate-handler{border-color:var(--jp-brand-color1,#1976d2)!important;font-weight:500}
.nbstate-range{display:inline-flex;gap:8px;align-items:center}
.nbstate-slider{width:12em}
.nbstate-array{display:flex;flex-direction:column;gap:4px;align-items:flex-start}
.nbstate-list{margin:0;padding-left:1.4em}
.nbstate-list li{margin:1px 0}
.nbstate-view .nbstate-remove{padding:0 6px;margin-left:6px;line-height:1.3}
.nbstate-add{display:flex;gap:4px}
.nbstate-table{border-collapse:collapse}
.nbstate-table th,.nbstate-table td{border-bottom:1px solid var(--jp-border-color2,#e0e0e0);padding:2px 8px 2px 0;text-align:left;vertical-align:middle}
.nbstate-table thead th{font-weight:600;border-bottom-color:var(--jp-border-color1,#8a8a8a)}
.nbstate-table tfoot td{border-bottom:none;padding-top:4px}
.nbstate-table td input[type=text]{width:10em}
.nbstate-table td input[type=number]{width:6em}
.nbstate-table .nbstate-empty td{color:var(--jp-ui-font-color2,#616161);font-style:italic}
.nbstate-object{border:1px solid var(--jp-border-color2,#d4d4d4);border-radius:3px;margin:0;padding:4px 10px 8px;display:flex;flex-direction:column;gap:6px;min-width:0}
.nbstate-object>legend{padding:0 4px;flex:none}
.nbstate-object .nbstate-label{flex-basis:8em}
.nbstate-json{margin:0;font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px);white-space:pre-wrap}
.nbstate-handlers{display:flex;flex-direction:column;gap:8px;align-items:flex-start;margin-top:10px}
.nbstate-handlers[hidden],.nbstate-buttons[hidden],.nbstate-vars[hidden]{display:none}
.nbstate-buttons{display:flex;flex-wrap:wrap;gap:8px}
.nbstate-form{display:flex;flex-direction:column;gap:6px;margin:0;padding:6px 10px 8px;border:1px solid var(--jp-border-color2,#d4d4d4);border-radius:3px;min-width:min(28em,100%);box-sizing:border-box}
.nbstate-form-actions{display:flex;gap:8px}
.nbstate-busy-shown{cursor:progress}
.nbstate-busy-shown [data-nb-running=true]{opacity:.6}
.nbstate-error{display:flex;flex-direction:column;gap:4px;margin:4px 0}
.nbstate-error[hidden]{display:none}
.nbstate-error-item{display:flex;gap:8px;align-items:flex-start;justify-content:space-between;color:var(--jp-ui-font-color1,#212121);background:var(--jp-layout-color2,#f5f5f5);border-left:4px solid var(--jp-error-color1,#c62828);border-radius:3px;padding:4px 6px 4px 8px;white-space:pre-wrap}
.nbstate-view .nbstate-dismiss{padding:0 6px;line-height:1.3;flex:none}
[data-nb-invalid=true]>.nbstate-label{text-decoration:underline wavy var(--jp-error-color1,#c62828)}
.nbstate-outputs{display:flex;flex-direction:column;gap:8px;margin-top:10px}
.nbstate-outputs[hidden]{display:none}
.nbstate-view-bare{border:none;padding:0}
.nbstate-output{min-width:0;overflow-x:auto}
.nbstate-output img{max-width:100%;height:auto;display:block}
.nbstate-output pre{margin:0;font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px);white-space:pre-wrap}
.nbstate-output table{border-collapse:collapse}
.nbstate-output th,.nbstate-output td{border-bottom:1px solid var(--jp-border-color2,#e0e0e0);padding:2px 8px;text-align:right}
.nbstate-output-error{background:var(--jp-layout-color2,#f5f5f5);border-left:4px solid var(--jp-error-color1,#c62828);border-radius:3px;padding:4px 8px}
.nbstate-children{margin-top:8px;padding-left:8px;border-left:2px solid var(--jp-border-color2,#e0e0e0)}
.nbstate-children[hidden]{display:none}
`;

export function ensureStyle(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}
