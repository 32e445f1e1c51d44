#!/bin/bash
# Grade on Kubernetes: deploy/k8s/run.sh IMAGE SHARDS [PARALLEL]
# Expects the submissions on the grading-data volume under /data/submissions (see docs/deploy.md).
set -euo pipefail
IMAGE="$1"; SHARDS="$2"; PARALLEL="${3:-$SHARDS}"
HERE="$(cd "$(dirname "$0")" && pwd)"
render() { "$HERE/render.sh" "$1" "$IMAGE" "$SHARDS" "$PARALLEL"; }
kubectl apply -f "$HERE/volume.yaml"
render "$HERE/grade-shards.yaml" | kubectl apply -f -
kubectl wait --for=condition=complete --timeout=24h job/grade-shards
render "$HERE/merge.yaml" | kubectl apply -f -
kubectl wait --for=condition=complete --timeout=1h job/grade-merge
