#!/usr/bin/env bash
# The demo: generate a company's share-access logs in the export layout, train on four weeks,
# score the fifth, write results to the store, and measure them against the ground truth.
set -euo pipefail
byoml=$1
out=$2
rm -rf "$out"
echo "== byoml sample: a generated company, 28 days of training and 7 days with novelty and anomalies"
"$byoml" sample --output "$out" --events 300000
from=$(grep -A2 '"test_window"' "$out/manifest.json" | sed -n 's/.*"from": "\(.*\)".*/\1/p')
to=$(grep -A2 '"test_window"' "$out/manifest.json" | sed -n 's/.*"to": "\(.*\)".*/\1/p')
echo
echo "== byoml inspect: what the export tree holds"
"$byoml" inspect "$out/export"
echo
echo "== byoml train: the training window, before $from"
"$byoml" train --input "$out/export" --to "$from" --model "$out/models"
echo
echo "== byoml score: the test week; the top results go to the results store"
"$byoml" score --input "$out/export" --from "$from" --to "$to" --model "$out/models" --store "$out/byoml.db" \
  --output "$out/results.jsonl"
echo
echo "== byoml evaluate: every event of the test week against the ground truth"
"$byoml" score --quiet --input "$out/export" --from "$from" --to "$to" --model "$out/models" --no-store \
  --per-event --output "$out/scores.jsonl" >/dev/null
"$byoml" evaluate --scores "$out/scores.jsonl" --labels "$out/labels.csv"
echo
cat <<MSG
Where to look:
  $out/export/         the logs, in Log Analytics continuous-export layout (y=/m=/d=/h=/m=/PT05M.json)
  $out/models/         the model registry (byoml models list --model $out/models)
  $out/byoml.db        results store (SQLite), table AnomalousResourceAccessResult_CL
  $out/results.jsonl   the same result rows, with explanations, as JSON Lines
  $out/scores.jsonl    every scored event of the test week
  $out/labels.csv      ground truth for every 5140 event of the test week (normal / novelty / anomaly)
Next: byoml score --help, byoml models show --model $out/models, byoml params
MSG
