/**
 * The runtime bundle's entry (`nbstate/static/runtime.js`): the anywidget entry points every
 * state's loader delegates to (`initialize`, `render`), and `serveSocket`, the same runtime
 * served over a WebSocket by `nbstate serve`.
 */

export { initialize, render, PROTOCOL_VERSION } from "./jupyter/runtime";
export { serveSocket } from "./socket/host";
