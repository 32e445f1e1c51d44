#!/bin/bash
# Submit the shard array and the merge that waits for it:
#   deploy/slurm/submit.sh SUBMISSIONS OUTROOT SHARDS [MAX_PARALLEL] [-- grade batch options]
set -euo pipefail
SUBMISSIONS="$1"; OUTROOT="$2"; SHARDS="$3"; PARALLEL="${4:-$SHARDS}"
shift $(( $# >= 4 ? 4 : 3 )); [ "${1:-}" = "--" ] && shift
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$OUTROOT"
ARRAY=$(sbatch --parsable --array="0-$((SHARDS - 1))%$PARALLEL" "$HERE/grade-array.sbatch" "$SUBMISSIONS" "$OUTROOT" "$@")
MERGE=$(sbatch --parsable --dependency="afterok:$ARRAY" "$HERE/merge.sbatch" "$OUTROOT")
echo "shards: job $ARRAY, merge: job $MERGE"
