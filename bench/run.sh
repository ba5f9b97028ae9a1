#!/usr/bin/env bash
# npm run bench: Gatehouse side by side with Postfix in one run, on loopback only,
# with ../shared/bench (8 connections x 250 messages of 2 KiB, STARTTLS, pipelining).
#   BENCH_C=8 BENCH_N=250 BENCH_RUNS=1 npm run bench
# Needs root for Postfix (../shared/peers/postfix-setup.sh installs it from Debian
# when missing). Set BENCH_PEERS=none to measure Gatehouse alone.
# Gatehouse runs the full relay: STARTTLS in, durable spool (fsync), STARTTLS out
# (tls: required, the sink's self-signed certificate trusted as a custom CA) to the
# shared sink on 127.0.0.1:2600, with outbound connection reuse.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${GATEHOUSE_SHARED:-$ROOT/../shared}
[ -d "$SHARED/bench" ] || { echo "bench: $SHARED/bench not found (set GATEHOUSE_SHARED)" >&2; exit 1; }
export GATEHOUSE_BENCH_WORK=${GATEHOUSE_BENCH_WORK:-/tmp/gatehouse-bench}
WORK=$GATEHOUSE_BENCH_WORK; mkdir -p "$WORK"
C=${BENCH_C:-8} N=${BENCH_N:-250} RUNS=${BENCH_RUNS:-1} PEERS=${BENCH_PEERS:-postfix}
GH_PORT=${GH_PORT:-2825}
RESULTS=$WORK/gatehouse-bench-$(date +%Y%m%d-%H%M%S).jsonl
: > "$RESULTS"

SINK_PORT=2600 bash "$SHARED/peers/sink.sh" start >/dev/null
HOME_DIR=$(mktemp -d "$WORK/gatehouse-home.XXXXXX")
node "$ROOT/dist/src/cli/main.js" --home "$HOME_DIR" init --hostname bench.gatehouse.test >/dev/null
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
  - { domain: ALL, hosts: ['127.0.0.1:2600'] }
destinationControls:
  default: { tls: required, maxConcurrency: 8, maxMessagesPerConnection: 1000 }
trustStore:
  systemEnabled: false
  customEnabled: true
  custom:
    - name: bench-sink
      certificate: |
$(sed 's/^/        /' "$SHARED/bench/certs/sink.crt")
YAML
node "$ROOT/dist/src/cli/main.js" --home "$HOME_DIR" start --config "$HOME_DIR/bench.yaml" > "$WORK/gatehouse.out" 2>&1 &
GH_PID=$!
cleanup() { kill -TERM "$GH_PID" 2>/dev/null || true; wait "$GH_PID" 2>/dev/null || true; rm -rf "$HOME_DIR"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q 'Gatehouse running' "$WORK/gatehouse.out" && break; sleep 0.1; done
grep -q 'Gatehouse running' "$WORK/gatehouse.out" || { cat "$WORK/gatehouse.out" >&2; exit 1; }

if [ "$PEERS" != none ]; then
  TUNE=reuse LISTEN=127.0.0.1:2625 SINK=127.0.0.1:2600 bash "$SHARED/peers/postfix-setup.sh" setup >/dev/null
fi

for run in $(seq "$RUNS"); do
  bash "$SHARED/bench/run-bench.sh" --name gatehouse --target "127.0.0.1:$GH_PORT" --gateway-pid "$GH_PID" \
    -c "$C" -n "$N" --wait-quiet 60 >> "$RESULTS"
  if [ "$PEERS" != none ]; then
    bash "$SHARED/bench/run-bench.sh" --name postfix --target 127.0.0.1:2625 \
      --gateway-pid "$(bash "$SHARED/peers/postfix-setup.sh" pid)" -c "$C" -n "$N" --wait-quiet 60 >> "$RESULTS"
  fi
done
node "$ROOT/bench/table.mjs" "$RESULTS"
echo "raw results: $RESULTS"
