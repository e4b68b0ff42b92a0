// Package jssdk embeds the bundled JavaScript sync SDK (sdk/js), so the
// server can serve it to browsers without npm at run time.
package jssdk

import _ "embed"

// Bundle is dist/fieldsync-sdk.js: the SDK as one ES module with idb and
// tus-js-client inside (esbuild; npm run build in sdk/js makes it, and a
// test checks that the committed file is what a fresh build makes). The
// server serves it at /app/sdk/fieldsync-sdk.js.
//
//go:embed dist/fieldsync-sdk.js
var Bundle []byte
