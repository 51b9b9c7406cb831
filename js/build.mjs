// Builds the two browser bundles into nbstate/static/ (committed; CI rebuilds and diffs them).
// Deterministic by construction: no timestamps, no sourcemaps, a fixed target.
import { build } from "esbuild";
import { pathToFileURL } from "node:url";

/** esbuild options shared by the bundles (tests build the loader in memory with these). */
export const options = {
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  sourcemap: false,
  charset: "utf8",
};

export const bundles = {
  "../nbstate/static/runtime.js": "src/runtime.ts",
  "../nbstate/static/loader.js": "src/loader.ts",
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const [outfile, entry] of Object.entries(bundles)) {
    await build({ ...options, entryPoints: [entry], outfile, logLevel: "info" });
  }
}
