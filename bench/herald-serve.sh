#!/bin/sh
# Start Herald for a benchmark run: a fresh data folder, the publisher account
# bench@localhost (password "bench": it creates the node, which anonymous users may not),
# then the broker in the foreground. Extra arguments go to `herald serve` (-o ...).
set -eu
cd "$(dirname "$0")/.."
HERALD=${HERALD:-build/herald}
rm -rf var/bench
mkdir -p var/bench
printf 'bench\n' | "$HERALD" user add bench@localhost -c bench/herald-bench.conf >/dev/null
exec "$HERALD" serve -c bench/herald-bench.conf "$@"
