#!/usr/bin/env bash
# Generate the Python gRPC code of every proto/**/*.proto into nudges_kit._generated
# (not committed: `make install` and the container builds run this).
set -euo pipefail
cd "$(dirname "$0")/.."
out=libs/nudges-kit/src/nudges_kit/_generated
protos=$(find proto -name '*.proto' | sort)
[ -n "$protos" ] || exit 0
rm -rf "$out" && mkdir -p "$out"
${UV:-uv} run --frozen python -m grpc_tools.protoc -I proto \
  --python_out="$out" --grpc_python_out="$out" --mypy_out="$out" --mypy_grpc_out="$out" $protos
# Packages for every generated folder, and imports made relative to nudges_kit._generated.
find "$out" -type d -exec touch {}/__init__.py \;
find "$out" -name '*.py' -o -name '*.pyi' | while read -r f; do
  sed -i -E 's/^from (warpcache|localization)(\.[a-z0-9_.]+)? import/from nudges_kit._generated.\1\2 import/' "$f"
done
echo "generated gRPC code for: $(echo $protos | tr '\n' ' ')"
