#!/usr/bin/env bash
# The demo, the whole job: generate a company's share-access logs in the export layout, train on
# four weeks, score the fifth hour by hour into the results store with the analytics rule after
# each hour (as a SOC schedules it), raise incidents, write the HTML report, and measure the
# scores against the ground truth.
set -euo pipefail
byoml=$1
out=$2
rules=$(dirname "$0")/../rules
rm -rf "$out"
export BYOML_STORE="$out/byoml.db"
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
echo "== byoml score --every 1h --rules: the test week hour by hour, byoml's analytics rule after each hour"
echo "   (windows that stored alerts or touched incidents are shown)"
"$byoml" score --quiet --input "$out/export" --from "$from" --to "$to" --model "$out/models" --every 1h \
  --rules "$rules" --identity "$out/identityinfo.jsonl" --output "$out/results.jsonl"
echo
echo "== byoml incidents list"
"$byoml" incidents list
echo
echo "== byoml report"
"$byoml" report --output "$out/report.html" --title "byoml demo: anomalous file share access"
echo
echo "== byoml evaluate: every event of the test week, scored hour by hour, against the ground truth"
"$byoml" score --quiet --input "$out/export" --from "$from" --to "$to" --model "$out/models" --no-store --every 1h \
  --identity "$out/identityinfo.jsonl" --per-event --output "$out/scores.jsonl" >/dev/null
"$byoml" evaluate --scores "$out/scores.jsonl" --labels "$out/labels.csv" --store "$out/byoml.db"
echo
cat <<MSG
Where to look:
  $out/report.html     THE REPORT: open it in a browser (self-contained, works offline)
  $out/export/         the logs, in Log Analytics continuous-export layout (y=/m=/d=/h=/m=/PT05M.json)
  $out/models/         the model registry (byoml models list --model $out/models)
  $out/byoml.db        results store (SQLite), table AnomalousResourceAccessResult_CL
  $out/results.jsonl   the same result rows, with explanations, as JSON Lines
  $out/scores.jsonl    every scored event of the test week
  $out/identityinfo.jsonl  Sentinel IdentityInfo rows (departments, transfers): score --identity
  $out/labels.csv      ground truth for every 5140 event of the test week (normal / novelty / anomaly)
Next: byoml query --store $out/byoml.db 'AnomalousResourceAccessResult_CL | top 10 by AnomalyScore'
      byoml incidents show 1 --store $out/byoml.db, byoml models show --model $out/models, byoml --help
MSG
