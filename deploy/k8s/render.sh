#!/bin/bash
# Print a manifest with its placeholders filled in: render.sh FILE IMAGE SHARDS [PARALLEL]
set -euo pipefail
FILE="$1"; IMAGE="$2"; SHARDS="$3"; PARALLEL="${4:-$SHARDS}"
sed -e "s|\${IMAGE}|$IMAGE|g" -e "s|\${SHARDS}|$SHARDS|g" -e "s|\${PARALLEL}|$PARALLEL|g" "$FILE"
