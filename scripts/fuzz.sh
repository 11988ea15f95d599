#!/bin/sh
# fuzz.sh - build the libFuzzer targets (clang) and run each for a short budget on its
# seed corpus (tests/fuzz/corpus/<target>). Usage: scripts/fuzz.sh [seconds per target]
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-20}
CC=clang cmake -S . -B build-fuzz -DHERALD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"
for src in tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    work=$(mktemp -d)
    cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    echo "fuzz.sh: $t for ${SECS}s"
    ./build-fuzz/tests/"$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=0 "$work" >"$work.log" 2>&1 || {
        tail -40 "$work.log"
        echo "fuzz.sh: $t failed (crash input saved in the current folder)"
        exit 1
    }
    rm -rf "$work" "$work.log"
done
echo "fuzz.sh: all targets ran clean"
