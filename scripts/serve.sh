#!/bin/sh
# serve.sh - install what is missing, build, and start the broker on the development
# configuration (conf/herald-dev.conf): domain localhost, pubsub.localhost with a demo
# node, LMDB under var/herald, a self-signed certificate made on first start.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec build/herald serve -c conf/herald-dev.conf "$@"
