#!/bin/bash
# A/B of intake with and without routing rules (bench/RESULTS.md, Design measurements): two
# Postrooms of the same build on the machine's PostgreSQL (trust auth on 127.0.0.1:5432), relaying
# to smtp-sink; smtp-source alternates between them. Run from the repository after npm run build.
set -e
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
SINK=19025
smtp-sink -u postfix 127.0.0.1:$SINK 1000 & SINKPID=$!
start() { # name httpport smtpport
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS ab_$1" -c "CREATE DATABASE ab_$1" >/dev/null
  mkdir -p $WORK/$1
  POSTROOM_CONFIG=/dev/null DATA_DIR=$WORK/$1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/ab_$1 HTTP_PORT=$2 SMTP_LISTEN_PORT=$3 API_TOKEN=ab-token-0123456789abcdef LOG_LEVEL=warn MALLOC_ARENA_MAX=2 node dist/src/main.js > $WORK/$1/out.log 2>&1 &
  echo $! > $WORK/$1/pid
  for i in $(seq 1 100); do curl -sf localhost:$2/readyz >/dev/null && break; sleep 0.2; done
  curl -sf -X PUT localhost:$2/api/v1/settings -H 'authorization: Bearer ab-token-0123456789abcdef' -H 'content-type: application/json' \
    -d "{\"relayHost\":\"127.0.0.1\",\"relayPort\":$SINK,\"security\":\"none\",\"stormMaxDuplicates\":0,\"senderRateLimitPerMinute\":0}" >/dev/null
}
api() { curl -sf -X POST localhost:$1$2 -H 'authorization: Bearer ab-token-0123456789abcdef' -H 'content-type: application/json' -d "$3"; }
start a 18101 12101
start b 18102 12102
# B: ten rules that match nothing this load sends (every kind of condition), to a webhook that is never called
CH=$(api 18102 /api/v1/channels '{"type":"webhook","name":"hook","url":"http://127.0.0.1:9/hook"}' | sed 's/.*"id":"\([0-9]*\)".*/\1/')
for i in $(seq 1 10); do
  api 18102 /api/v1/rules "{\"name\":\"r$i\",\"match\":{\"subject\":\"^(disk|pool|raid)$i\",\"sender\":\"^zed$i@\",\"severity\":\"warning\",\"client\":\"10.$i.0.0/16\"},\"channels\":[\"$CH\"],\"when\":\"$([ $((i%2)) = 0 ] && echo always || echo undelivered)\"}" >/dev/null
done
run() { # port
  local t0=$(date +%s.%N)
  smtp-source -s 20 -m 2000 -l 1024 -f alerts@nas.example.com -t ops@example.com 127.0.0.1:$1
  local t1=$(date +%s.%N)
  echo "scale=1; 2000/($t1-$t0)" | bc
}
# warm-up
run 12101 >/dev/null; run 12102 >/dev/null
for round in 1 2 3 4 5; do
  a=$(run 12101); b=$(run 12102); echo "round $round: no rules $a/s, ten rules $b/s"
done
kill $(cat $WORK/a/pid) $(cat $WORK/b/pid) $SINKPID
sleep 3
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS ab_a" -c "DROP DATABASE IF EXISTS ab_b" >/dev/null
rm -rf "$WORK"
