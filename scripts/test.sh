#!/bin/sh
# test.sh - install what is missing, build, and run every test (unit, integration,
# interop); then build again with AddressSanitizer + UndefinedBehaviorSanitizer and run
# the whole suite once more, and run each fuzz target briefly.
# `scripts/test.sh --no-sanitizers` skips everything after the first pass.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
JOBS=$(nproc)
# Each test starts its own broker; two tests per core keeps the machine busy, not swamped.
CTEST_JOBS=$((JOBS * 2))
run_suite() {
    dir=$1
    shift
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j"$JOBS"
    ctest --test-dir "$dir" -j"$CTEST_JOBS" --output-on-failure --timeout 600
}
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" != "--no-sanitizers" ]; then
    # Every parser under libFuzzer for a short budget (DESIGN.md: fuzz targets run in CI).
    sh scripts/fuzz.sh 10
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=address,undefined
fi
echo "test.sh: all tests passed"
