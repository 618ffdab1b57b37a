#!/usr/bin/env bash
# Refreshes the vendored GraphiQL files from the npm registry (needs npm and network), then
# prints the README's file table with each file's size and sha256. To move to new versions,
# edit the package list below, run this, paste the table into README.md and run the tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package@version | file in the package | name here
files=(
    "react@18.3.1|umd/react.production.min.js|react.production.min.js"
    "react@18.3.1|LICENSE|LICENSE-react"
    "react-dom@18.3.1|umd/react-dom.production.min.js|react-dom.production.min.js"
    "graphiql@3.9.0|graphiql.min.js|graphiql.min.js"
    "graphiql@3.9.0|graphiql.min.css|graphiql.min.css"
    "graphiql@3.9.0|LICENSE|LICENSE-graphiql"
    "@graphiql/plugin-explorer@3.2.6|dist/index.umd.js|plugin-explorer.umd.js"
    "@graphiql/plugin-explorer@3.2.6|dist/style.css|plugin-explorer.css"
    # The explorer plugin bundles graphiql-explorer and ships no LICENSE of its own.
    "graphiql-explorer@0.9.0|LICENSE|LICENSE-graphiql-explorer"
)

for entry in "${files[@]}"; do
    IFS='|' read -r package source target <<<"$entry"
    unpacked="$work/$(echo "$package" | tr '/@' '__')"
    if [[ ! -d $unpacked ]]; then
        tarball=$(cd "$work" && npm pack --silent "$package")
        mkdir "$unpacked"
        tar xzf "$work/$tarball" -C "$unpacked"
    fi
    cp "$unpacked/package/$source" "$here/$target"
done

cd "$here"
echo "| file | from | bytes | sha256 |"
echo "| --- | --- | --- | --- |"
for entry in "${files[@]}"; do
    IFS='|' read -r package source target <<<"$entry"
    [[ $target == LICENSE* ]] && continue
    echo "| \`$target\` | \`$package\` \`$source\` | $(stat -c %s "$target") | \`$(sha256sum "$target" | cut -d' ' -f1)\` |"
done
