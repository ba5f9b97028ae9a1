#!/usr/bin/env bash
# npm run bench: Gatehouse, Postfix (TUNE=reuse, its best configuration here) and Haraka side
# by side in one run, on loopback only, through the same sink, with ../shared/bench.
#
#   BENCH_RUNS=3 npm run bench              medians over 3 rounds
#   BENCH_SCENARIOS="8x250 32x100"          connections x messages per connection (default both)
#   BENCH_SYSTEMS="gatehouse postfix haraka" which systems (default all three)
#   BENCH_SIZE=2048 BENCH_WAIT_QUIET=20     message size; max seconds to wait for a quiet machine
#   BENCH_WARMUP=3                          unmeasured rounds per system first (0: measure cold processes)
#   BENCH_PAUSE_S=45                        experiments: idle seconds before every measured round
#   GATEHOUSE_BENCH_WORK=/tmp/gatehouse-bench  raw JSON and logs (one JSONL file per bench run)
#   GATEHOUSE_NODE_OPTIONS="--cpu-prof ..." extra node flags for the Gatehouse process
#   GATEHOUSE_BENCH_YAML="queue: { fsync: false }" extra top-level config for Gatehouse (experiments)
#
# Every scenario: STARTTLS on both legs, pipelining, 2 KiB messages. The sink counts each run's
# messages (unique, duplicates, TLS vs plain); the table flags any run where a message was not
# delivered, was delivered without TLS, or was delivered twice. A peer that cannot be installed
# or started (no root, registry unreachable, ...) is reported and left out; the others go on.
# Rounds are interleaved (gatehouse, postfix, haraka, then again) so drift hits all alike.
# Needs root for Postfix (../shared/peers/postfix-setup.sh installs it from Debian when missing).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${GATEHOUSE_SHARED:-$ROOT/../shared}
[ -d "$SHARED/bench" ] || SHARED=/work/shared
[ -d "$SHARED/bench" ] || { echo "bench: shared bench tools not found (set GATEHOUSE_SHARED)" >&2; exit 1; }
export GATEHOUSE_BENCH_WORK=${GATEHOUSE_BENCH_WORK:-/tmp/gatehouse-bench}
WORK=$GATEHOUSE_BENCH_WORK; mkdir -p "$WORK/logs"
RUNS=${BENCH_RUNS:-1}
SCENARIOS=${BENCH_SCENARIOS:-8x250 32x100}
SYSTEMS=${BENCH_SYSTEMS:-gatehouse postfix haraka}
SIZE=${BENCH_SIZE:-2048}
WAIT_QUIET=${BENCH_WAIT_QUIET:-20}
GH_PORT=${GH_PORT:-2825} PF_LISTEN=127.0.0.1:2625 HA_LISTEN=127.0.0.1:2725 SINK_PORT=2600
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$WORK/gatehouse-bench-$STAMP.jsonl
NOTES=$WORK/gatehouse-bench-$STAMP.notes
: > "$RESULTS"; : > "$NOTES"
note() { echo "bench: $*" >&2; echo "$*" >> "$NOTES"; }

SINK_PORT=$SINK_PORT bash "$SHARED/peers/sink.sh" start >/dev/null || { echo "bench: the sink did not start" >&2; exit 1; }

# ---- Gatehouse ---------------------------------------------------------------------------
GH_PID="" HOME_DIR=""
start_gatehouse() {
  HOME_DIR=$(mktemp -d "$WORK/gatehouse-home.XXXXXX")
  node "$ROOT/dist/src/cli/main.js" --home "$HOME_DIR" init --hostname bench.gatehouse.test >/dev/null || return 1
  cat > "$HOME_DIR/bench.yaml" <<YAML
hostname: bench.gatehouse.test
listeners:
  - name: BenchIn
    type: private
    address: 127.0.0.1
    port: $GH_PORT
    certificates: [Demo]
    senderGroups: [{ name: RELAYLIST, policy: RELAYED, members: [127.0.0.0/8] }]
    policies: [{ name: RELAYED, behavior: relay, tls: preferred, maxConnectionsPerIp: 1000 }]
smtpRoutes:
  - { domain: ALL, hosts: ['127.0.0.1:$SINK_PORT'] }
destinationControls:
  default: { tls: required, maxConcurrency: 8, maxMessagesPerConnection: 1000 }
trustStore:
  systemEnabled: false
  customEnabled: true
  custom:
    - name: bench-sink
      certificate: |
$(sed 's/^/        /' "$SHARED/bench/certs/sink.crt")
${GATEHOUSE_BENCH_YAML:-}
YAML
  # shellcheck disable=SC2086
  # Started as `npm start` and contrib/gatehouse.service start it (--no-memory-reducer, see there).
  node --no-memory-reducer ${GATEHOUSE_NODE_OPTIONS:-} "$ROOT/dist/src/cli/main.js" --home "$HOME_DIR" start --config "$HOME_DIR/bench.yaml" \
    > "$WORK/logs/gatehouse.out" 2>&1 &
  GH_PID=$!
  for _ in $(seq 150); do grep -q 'Gatehouse running' "$WORK/logs/gatehouse.out" && return 0; kill -0 "$GH_PID" 2>/dev/null || break; sleep 0.1; done
  cat "$WORK/logs/gatehouse.out" >&2
  return 1
}
cleanup() {
  if [ -n "$GH_PID" ]; then kill -TERM "$GH_PID" 2>/dev/null; wait "$GH_PID" 2>/dev/null; fi
  [ -n "$HOME_DIR" ] && rm -rf "$HOME_DIR"
}
trap cleanup EXIT

ACTIVE=()
for sys in $SYSTEMS; do
  case "$sys" in
    gatehouse)
      if start_gatehouse; then ACTIVE+=(gatehouse); else note "gatehouse: did not start (see $WORK/logs/gatehouse.out); left out"; fi;;
    postfix)
      if TUNE=reuse LISTEN=$PF_LISTEN SINK=127.0.0.1:$SINK_PORT bash "$SHARED/peers/postfix-setup.sh" setup > "$WORK/logs/postfix-setup.out" 2>&1; then
        ACTIVE+=(postfix)
      else
        note "postfix: setup FAILED (install or start; root needed), left out: $(tail -3 "$WORK/logs/postfix-setup.out" | tr '\n' ' ')"
      fi;;
    haraka)
      if LISTEN=$HA_LISTEN SINK=127.0.0.1:$SINK_PORT bash "$SHARED/peers/haraka-setup.sh" setup > "$WORK/logs/haraka-setup.out" 2>&1; then
        ACTIVE+=(haraka)
      else
        note "haraka: npm install or start FAILED (registry unreachable?), left out: $(tail -3 "$WORK/logs/haraka-setup.out" | tr '\n' ' ')"
      fi;;
    *) note "unknown system $sys, left out";;
  esac
done
[ ${#ACTIVE[@]} -gt 0 ] || { echo "bench: no system to measure" >&2; exit 1; }

pid_of() {
  case "$1" in
    gatehouse) echo "$GH_PID";;
    postfix) bash "$SHARED/peers/postfix-setup.sh" pid 2>/dev/null | tr -d ' ';;
    haraka) bash "$SHARED/peers/haraka-setup.sh" pid 2>/dev/null;;
  esac
}
target_of() {
  case "$1" in gatehouse) echo "127.0.0.1:$GH_PORT";; postfix) echo "$PF_LISTEN";; haraka) echo "$HA_LISTEN";; esac
}

# Warm-up: every system first takes BENCH_WARMUP (default 3) unmeasured rounds of the first
# scenario. A relay runs for months; what counts is its steady state, not the first seconds of a
# fresh process. Gatehouse's V8 keeps compiling its hot paths for the first ~6,000 messages
# (8x250 on one fresh process, back to back, November 2026: ~650/s for the first 2,000 messages,
# 870-940/s for the next 2,000, 1,060-1,200/s after that). Postfix and Haraka get the same rounds.
# BENCH_WARMUP=0 measures cold processes instead.
WARMUP=${BENCH_WARMUP:-3}
if [ "$WARMUP" != 0 ]; then
  set -- $SCENARIOS
  WC=${1%x*} WN=${1#*x}
  for sys in "${ACTIVE[@]}"; do
    for w in $(seq "$WARMUP"); do
      echo "bench: warm-up round $w/$WARMUP (not measured), $sys, $WC connections x $WN messages" >&2
      bash "$SHARED/bench/run-bench.sh" --name "warmup-$sys" --target "$(target_of "$sys")" --gateway-pid "$(pid_of "$sys")" \
        -c "$WC" -n "$WN" --size "$SIZE" --starttls on --pipelining on --wait-quiet "$WAIT_QUIET" > /dev/null 2>&1 \
        || note "$sys: warm-up round $w failed (see $WORK/results/warmup-$sys-*)"
    done
  done
fi

for run in $(seq "$RUNS"); do
  for sc in $SCENARIOS; do
    C=${sc%x*} N=${sc#*x}
    for sys in "${ACTIVE[@]}"; do
      [ -n "${BENCH_PAUSE_S:-}" ] && sleep "$BENCH_PAUSE_S"  # experiments: idle gap before each round
      echo "bench: round $run/$RUNS, $sys, $C connections x $N messages" >&2
      line=$(bash "$SHARED/bench/run-bench.sh" --name "$sys" --target "$(target_of "$sys")" --gateway-pid "$(pid_of "$sys")" \
        -c "$C" -n "$N" --size "$SIZE" --starttls on --pipelining on --wait-quiet "$WAIT_QUIET" | tail -1)
      if [ -z "$line" ]; then note "$sys $sc round $run: run-bench printed nothing"; continue; fi
      # add the scenario and the gateway tree's CPU seconds from this run's procmon file
      node -e '
        const [line, sc, dir] = process.argv.slice(1);
        const r = JSON.parse(line);
        let cpu = null;
        try { cpu = JSON.parse(require("fs").readFileSync(`${dir}/${r.run_id}.procmon.json`, "utf8")).gateway?.cpu_s ?? null; } catch {}
        console.log(JSON.stringify({ scenario: sc, gateway_cpu_s: cpu, ...r }));
      ' "$line" "$sc" "$WORK/results" >> "$RESULTS"
    done
  done
done
node "$ROOT/bench/table.mjs" "$RESULTS" "$NOTES"
echo "raw results: $RESULTS (per-step JSON in $WORK/results)"
