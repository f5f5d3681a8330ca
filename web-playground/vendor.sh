#!/usr/bin/env bash
# Re-vendor the GraphiQL playground assets from the pinned npm packages.
# The Rust binary embeds web-playground/graphiql/* and serves them under
# /graphql/assets/ so the playground at GET /graphql works fully offline.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

npm ci --no-audit --no-fund

out="$here/graphiql"
mkdir -p "$out"

cp node_modules/react/umd/react.production.min.js         "$out/react.production.min.js"
cp node_modules/react-dom/umd/react-dom.production.min.js "$out/react-dom.production.min.js"
cp node_modules/graphiql/graphiql.min.js                  "$out/graphiql.min.js"
cp node_modules/graphiql/graphiql.min.css                 "$out/graphiql.min.css"

echo "Vendored into $out:"
ls -l "$out"
