#!/bin/bash
# run.sh - Herald's benchmark matrix against Herald and the reference peers.
#
#   bench/run.sh [options] SERVER...        SERVER: herald | prosody | ejabberd
#   bench/run.sh --summarize FILE.jsonl     print the summary table of earlier results
#
# For every server, every N in --subs and every W in --windows, --repeat times: start the
# server, run herald-bench (fan-out, 500-byte payloads), stop the server; then the idle-memory
# mode (--idle sessions, 0 = skip). Each run starts a fresh server, so peak RSS (VmHWM) belongs
# to that run alone. Results: bench/results/<timestamp>.jsonl (one JSON line per run, as printed
# by herald-bench plus "repeat") and <timestamp>.txt (medians and ratios; the first SERVER named
# is compared with each of the others). See bench/README.md.
#
# Environment:
#   HERALD_CMD        how to start Herald, run from the repository root
#                     (default: bench/herald-serve.sh: fresh data, publisher account)
#   HERALD_PORT       its c2s port (5222); HERALD_DOMAIN (localhost), HERALD_PUBSUB
#                     (pubsub.localhost); HERALD_BENCH_ARGS: extra herald-bench options
#   HERALD_BENCH      the herald-bench binary (default: build/bench/herald-bench)
#   PEERS_SH          peers.sh (default: ../shared/peers/peers.sh beside the repository)
#   HB_DIR, PROSODY_PORT, EJABBERD_PORT, EJABBERD_DIST_PORT   passed on to peers.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERALD_CMD=${HERALD_CMD:-bench/herald-serve.sh}
HERALD_PORT=${HERALD_PORT:-5222}
HERALD_DOMAIN=${HERALD_DOMAIN:-localhost}
HERALD_PUBSUB=${HERALD_PUBSUB:-pubsub.localhost}
HERALD_BENCH_ARGS=${HERALD_BENCH_ARGS:---pub-auth plain --pub-user bench --pub-pass bench}
BENCH=${HERALD_BENCH:-$ROOT/build/bench/herald-bench}
PEERS_SH=${PEERS_SH:-$(cd "$ROOT/.." && pwd)/shared/peers/peers.sh}
PROSODY_PORT=${PROSODY_PORT:-25222}
EJABBERD_PORT=${EJABBERD_PORT:-25232}
export HB_DIR PROSODY_PORT EJABBERD_PORT EJABBERD_DIST_PORT 2>/dev/null || true

SUBS="1000 10000"
WINDOWS="1 50"
PAYLOAD=500
REPEAT=3
DELIVERIES=300000   # items per run = DELIVERIES / N (at least 10)
IDLE=5000
TIMEOUT=300
CONNECT_RATE=1000
OUT_DIR=$ROOT/bench/results
SUMMARIZE=""

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; cat <<EOF
Options:
  --subs "1000 10000"   subscriber counts          --windows "1 50"  publish windows
  --repeat R (3)        runs per configuration     --payload B (500)
  --deliveries D (300000)  items per run = D / N   --idle N (5000; 0 = skip idle mode)
  --timeout S (300)     bound on one herald-bench run
  --connect-rate R (1000)  new connections per second
  --out DIR             results folder (bench/results)
EOF
}
die() { echo "run.sh: $*" >&2; exit 1; }

servers=()
while [ $# -gt 0 ]; do
    case "$1" in
        --subs) SUBS=$2; shift ;;
        --windows) WINDOWS=$2; shift ;;
        --repeat) REPEAT=$2; shift ;;
        --payload) PAYLOAD=$2; shift ;;
        --deliveries) DELIVERIES=$2; shift ;;
        --idle) IDLE=$2; shift ;;
        --timeout) TIMEOUT=$2; shift ;;
        --connect-rate) CONNECT_RATE=$2; shift ;;
        --out) OUT_DIR=$2; shift ;;
        --summarize) SUMMARIZE=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        herald|prosody|ejabberd) servers+=("$1") ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done

# ---------------------------------------------------------------- summary
summarize() { # FILE.jsonl
    /usr/bin/python3 - "$1" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
labels = []
for r in rows:
    if r["label"] not in labels:
        labels.append(r["label"])
def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None
def fmt(v, nd=0):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}"
groups = {}
for r in rows:
    key = (r["mode"], r.get("subscribers", r.get("sessions")), r.get("window", 0), r["label"])
    groups.setdefault(key, []).append(r)
base = labels[0] if labels else None
others = labels[1:]
out = []
out.append("Fan-out (medians over repeats; deliveries/s = notifications received / time from "
           "first publish to last delivery)")
hdr = f"{'server':<10} {'N':>6} {'W':>3} {'runs':>4} {'deliv/s':>10} {'pub/s':>9} " \
      f"{'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'complete':>8} {'errors':>6} " \
      f"{'peak RSS MB':>11} {'srv CPU%':>8} {'bench CPU%':>10}"
ratio_hdr = "".join(f" {base + '/' + o:>18}" for o in others)
out.append(hdr + ratio_hdr)
fan = sorted({(k[1], k[2]) for k in groups if k[0] == "fanout"})
meds = {}
for n, w in fan:
    for lab in labels:
        g = groups.get(("fanout", n, w, lab))
        if not g:
            continue
        m = dict(
            deliv=med([r["deliveries_per_s"] for r in g]),
            pub=med([r["publishes_per_s"] for r in g]),
            p50=med([r["latency_ms"]["p50"] for r in g]),
            p99=med([r["latency_ms"]["p99"] for r in g]),
            mx=med([r["latency_ms"]["max"] for r in g]),
            comp=med([r["completeness"] for r in g]),
            err=sum(r["errors"] for r in g),
            rss=med([r["server_rss_peak_kb"] / 1024 if r["server_rss_peak_kb"] else None
                     for r in g]),
            cpu=med([r["server_cpu_pct"] for r in g]),
            bcpu=med([r["bench_cpu_pct"] for r in g]))
        meds[(n, w, lab)] = m
        line = (f"{lab:<10} {n:>6} {w:>3} {len(g):>4} {fmt(m['deliv']):>10} {fmt(m['pub'], 1):>9} "
                f"{fmt(m['p50'], 2):>9} {fmt(m['p99'], 2):>9} {fmt(m['mx'], 2):>9} "
                f"{fmt(m['comp'], 4):>8} {m['err']:>6} {fmt(m['rss'], 1):>11} "
                f"{fmt(m['cpu']):>8} {fmt(m['bcpu']):>10}")
        if lab == base:
            for o in others:
                om = meds.get((n, w, o))
                if om is None:
                    # others may come later in labels order: compute on demand
                    og = groups.get(("fanout", n, w, o))
                    om = {"deliv": med([r["deliveries_per_s"] for r in og])} if og else None
                if om and om.get("deliv") and m["deliv"] is not None:
                    line += f" {'x' + fmt(m['deliv'] / om['deliv'], 2) + ' deliv/s':>18}"
                else:
                    line += f" {'-':>18}"
        out.append(line)
idle = sorted({k[1] for k in groups if k[0] == "idle"})
if idle:
    out.append("")
    out.append("Idle sessions (medians): server RSS growth per authenticated session with "
               "initial presence")
    out.append(f"{'server':<10} {'sessions':>8} {'runs':>4} {'online':>7} {'bytes/session':>13} "
               f"{'logins/s':>9} {'errors':>6}" +
               "".join(f" {base + '/' + o:>18}" for o in others))
    for n in idle:
        bps = {}
        for lab in labels:
            g = groups.get(("idle", n, 0, lab))
            if g:
                bps[lab] = med([r["bytes_per_session"] for r in g])
        for lab in labels:
            g = groups.get(("idle", n, 0, lab))
            if not g:
                continue
            line = (f"{lab:<10} {n:>8} {len(g):>4} {fmt(med([r['established'] for r in g])):>7} "
                    f"{fmt(bps[lab]):>13} {fmt(med([r['sessions_per_s'] for r in g])):>9} "
                    f"{sum(r['errors'] for r in g):>6}")
            if lab == base:
                for o in others:
                    if bps.get(o) and bps.get(base) is not None:
                        line += f" {'x' + fmt(bps[base] / bps[o], 2) + ' bytes':>18}"
                    else:
                        line += f" {'-':>18}"
            out.append(line)
print("\n".join(out))
EOF
}

if [ -n "$SUMMARIZE" ]; then
    summarize "$SUMMARIZE"
    exit 0
fi
[ ${#servers[@]} -gt 0 ] || { usage >&2; die "name at least one server"; }
[ -x "$BENCH" ] || die "no herald-bench at $BENCH: build it with
  cmake -S $ROOT -B $ROOT/build && cmake --build $ROOT/build --target herald-bench
or set HERALD_BENCH"
for s in "${servers[@]}"; do
    case $s in prosody|ejabberd) [ -x "$PEERS_SH" ] || die "peers.sh not found at $PEERS_SH (set PEERS_SH)" ;; esac
done

# 10,000 subscribers need ~10,020 descriptors here and in the server (peers.sh and the
# Herald start below raise the server's own limit).
max_n=$IDLE
for n in $SUBS; do [ "$n" -gt "$max_n" ] && max_n=$n; done
need=$((max_n + 64))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
    ulimit -Hn "$need" 2>/dev/null || die "need $need file descriptors; the hard limit is $(ulimit -Hn)"
fi
ulimit -n "$(ulimit -Hn)"

# ---------------------------------------------------------------- servers
running=""      # the server this script started and has not stopped yet
herald_pid=""

port_of() {
    case $1 in herald) echo "$HERALD_PORT" ;; prosody) echo "$PROSODY_PORT" ;; ejabberd) echo "$EJABBERD_PORT" ;; esac
}
wait_port() { # PORT SECONDS
    for _ in $(seq 1 $(($2 * 5))); do
        ss -ltn | grep -q "127.0.0.1:$1 \|\*:$1 \|\[::\]:$1 \|0.0.0.0:$1 " && return 0
        sleep 0.2
    done
    return 1
}
server_start() { # NAME -> sets running, prints nothing
    case $1 in
        herald)
            (cd "$ROOT" && exec bash -c "exec $HERALD_CMD") >"$OUT_DIR/herald-$STAMP.log" 2>&1 &
            herald_pid=$!
            running=herald
            wait_port "$HERALD_PORT" 30 || die "herald did not listen on $HERALD_PORT (see $OUT_DIR/herald-$STAMP.log)"
            ;;
        prosody|ejabberd)
            if "$PEERS_SH" pid "$1" >/dev/null 2>&1; then
                die "$1 is already running (someone else's?): stop it, or set HB_DIR and the ports for a separate instance"
            fi
            running=$1
            "$PEERS_SH" start "$1" >/dev/null
            ;;
    esac
}
server_pid() {
    case $1 in
        herald) echo "$herald_pid" ;;
        *) "$PEERS_SH" pid "$1" | head -1 ;;
    esac
}
server_stop() {
    case $running in
        herald)
            if [ -n "$herald_pid" ] && kill -0 "$herald_pid" 2>/dev/null; then
                kill "$herald_pid"
                for _ in $(seq 1 50); do kill -0 "$herald_pid" 2>/dev/null || break; sleep 0.2; done
                kill -0 "$herald_pid" 2>/dev/null && kill -9 "$herald_pid"
            fi
            herald_pid=""
            ;;
        prosody|ejabberd) "$PEERS_SH" stop "$running" >/dev/null || true ;;
    esac
    running=""
}
trap 'server_stop' EXIT
trap 'exit 130' INT TERM

bench_args() { # NAME
    case $1 in
        herald) echo "--domain $HERALD_DOMAIN --pubsub $HERALD_PUBSUB $HERALD_BENCH_ARGS" ;;
        # Prosody's mod_pubsub lets only admins create (and delete) nodes
        prosody) echo "--domain localhost --pubsub pubsub.localhost --pub-auth plain --pub-user hbadmin --pub-pass hbsecret --pub-domain admin.localhost" ;;
        ejabberd) echo "--domain localhost --pubsub pubsub.localhost" ;;
    esac
}

mkdir -p "$OUT_DIR"
STAMP=$(date +%Y%m%d-%H%M%S)
JSONL=$OUT_DIR/$STAMP.jsonl
SUMMARY=$OUT_DIR/$STAMP.txt
: > "$JSONL"
echo "run.sh: results in $JSONL" >&2

run_one() { # NAME REPEAT ARGS...
    local name=$1 rep=$2; shift 2
    local pid line rc
    server_start "$name"
    pid=$(server_pid "$name")
    sleep 1
    rc=0
    # shellcheck disable=SC2046  # bench_args is a word list by design
    line=$("$BENCH" --json --quiet --host 127.0.0.1 --port "$(port_of "$name")" --label "$name" \
        --server-pid "$pid" --timeout "$TIMEOUT" --connect-rate "$CONNECT_RATE" \
        $(bench_args "$name") "$@") || rc=$?
    server_stop
    if [ -z "$line" ]; then
        echo "run.sh: $name: herald-bench printed nothing (exit $rc)" >&2
        return 0
    fi
    echo "${line/#\{/\{\"repeat\":$rep,}" >> "$JSONL"
    /usr/bin/python3 - "$line" >&2 <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
if r["mode"] == "idle":
    print(f"  {r['label']}: idle {r['established']}/{r['sessions']} sessions, "
          f"{r['bytes_per_session']} bytes/session, errors {r['errors']}")
else:
    print(f"  {r['label']}: N={r['subscribers']} W={r['window']}: "
          f"{r['deliveries_per_s']:,.0f} deliveries/s, p99 {r['latency_ms']['p99']:.1f} ms, "
          f"completeness {r['completeness']:.4f}, errors {r['errors']}")
EOF
}

for name in "${servers[@]}"; do
    for n in $SUBS; do
        items=$((DELIVERIES / n)); [ "$items" -lt 10 ] && items=10
        for w in $WINDOWS; do
            for rep in $(seq 1 "$REPEAT"); do
                echo "run.sh: $name N=$n W=$w M=$items run $rep/$REPEAT" >&2
                run_one "$name" "$rep" --subscribers "$n" --items "$items" --window "$w" \
                    --payload "$PAYLOAD" --node "hb-$STAMP-$n-$w-$rep" --fresh --delete-after
            done
        done
    done
    if [ "$IDLE" -gt 0 ]; then
        for rep in $(seq 1 "$REPEAT"); do
            echo "run.sh: $name idle $IDLE sessions run $rep/$REPEAT" >&2
            run_one "$name" "$rep" --idle-sessions "$IDLE"
        done
    fi
done

summarize "$JSONL" | tee "$SUMMARY"
echo "run.sh: results in $JSONL, summary in $SUMMARY" >&2
