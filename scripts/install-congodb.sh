#!/usr/bin/env bash
# Installs CongoDB, the MongoDB stand-in the tests use, into .congodb/ (see PRODUCT.md,
# "Testing without the internet"). A plain `npm install @push.rocks/smartmongo` fails on this
# registry, so its six runtime dependencies are installed alone and the package is unpacked beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.congodb
source_dir=tests/fakes/congodb
server="$target/node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js"
if [ -f "$server" ] && cmp -s "$source_dir/package.json" "$target/package.json"; then
  cp "$source_dir/serve.mjs" "$target/serve.mjs"
  exit 0
fi
command -v node >/dev/null || { echo "node is needed for the MongoDB stand-in (Node 20)" >&2; exit 1; }
rm -rf "$target"
mkdir -p "$target"
cp "$source_dir/package.json" "$source_dir/serve.mjs" "$target/"
(
  cd "$target"
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  tarball=$(npm pack @push.rocks/smartmongo@2.2.0 --silent | tail -n 1)
  mkdir -p node_modules/@push.rocks/smartmongo
  tar xzf "$tarball" -C node_modules/@push.rocks/smartmongo --strip-components=1
  rm -f "$tarball"
)
[ -f "$server" ] || { echo "CongoDB did not install: $server is missing" >&2; exit 1; }
echo "CongoDB installed in $target"
