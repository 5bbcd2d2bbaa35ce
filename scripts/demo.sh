#!/usr/bin/env bash
# The demo: generate a company's share-access logs in the export layout, then read them back.
set -euo pipefail
byoml=$1
out=$2
echo "== byoml sample: a generated company, 28 days of training and 7 days with novelty and anomalies"
"$byoml" sample --output "$out" --events 300000
echo
echo "== byoml inspect: what the export tree holds"
"$byoml" inspect "$out/export"
echo
echo "== byoml inspect --from/--to: only the test week (blobs outside it are not opened)"
from=$(grep -A2 '"test_window"' "$out/manifest.json" | sed -n 's/.*"from": "\(.*\)".*/\1/p')
to=$(grep -A2 '"test_window"' "$out/manifest.json" | sed -n 's/.*"to": "\(.*\)".*/\1/p')
"$byoml" inspect --from "$from" --to "$to" "$out/export"
echo
cat <<MSG
Where to look:
  $out/export/      the logs, in Log Analytics continuous-export layout (y=/m=/d=/h=/m=/PT05M.json)
  $out/labels.csv   ground truth for every 5140 event of the test week (normal / novelty / anomaly)
  $out/manifest.json  windows, counts, and the anomalies that were planted
Next: byoml inspect --help, byoml sample --help, byoml template show
MSG
