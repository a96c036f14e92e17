#!/usr/bin/env bash
# Check the frozen build without any Python on PATH: `analyze` on the bundled real clip.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=dist/posture-monitor/posture-monitor
out=$(mktemp -d)
env -i HOME="$out" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen \
    "$exe" analyze assets/sample/pose2sim_cam02.mp4 --out "$out" --model lite --quiet
rows=$(($(wc -l < "$out/pose2sim_cam02.csv") - 1))
[ "$rows" -eq 100 ] || { echo "frozen analyze wrote $rows rows, expected 100"; exit 1; }
echo "frozen build OK: $rows rows from $exe; size $(du -sh dist/posture-monitor | cut -f1)"
