// Loaded by Node's own require, so `import()` here is Node's native one (not the test runner's):
// it can import data: URLs, which the bundles under test turn their Blob sources into.
module.exports = (url) => import(url);
