#!/usr/bin/env bash
# The detection figures of docs/detection.md, end to end with the shipped defaults, per seed of
# the generated company: train on four weeks, score the fifth hour by hour with byoml's rule
# after each hour (and the identity data), then evaluate every event and the rule's incidents.
#   [SCENARIO=projects] scripts/detection-table.sh build/byoml OUT_DIR [EVENTS] [SEEDS...]
# SCENARIO is byoml sample's company: enterprise (departments and teams, the default) or projects.
set -euo pipefail
byoml=$1
out=$2
events=${3:-300000}
shift $(( $# >= 3 ? 3 : $# ))
seeds=${*:-7 11 23}
scenario=${SCENARIO:-enterprise}
rules=$(dirname "$0")/../rules
mkdir -p "$out"
printf '%-5s %8s %8s %8s %9s %9s %9s %9s %9s %9s\n' seed users "AP" "AUCnew" "fs-AUC" "incid." "naming" "named" "falseInc" "falseAl"
for seed in $seeds; do
  d="$out/seed-$seed"
  rm -rf "$d"
  "$byoml" sample -q --scenario "$scenario" --seed "$seed" --events "$events" --output "$d" >/dev/null
  from=$(grep -A2 '"test_window"' "$d/manifest.json" | sed -n 's/.*"from": "\(.*\)".*/\1/p')
  to=$(grep -A2 '"test_window"' "$d/manifest.json" | sed -n 's/.*"to": "\(.*\)".*/\1/p')
  "$byoml" train -q --input "$d/export" --to "$from" --model "$d/models" --no-store >/dev/null
  "$byoml" score -q --input "$d/export" --from "$from" --to "$to" --model "$d/models" --every 1h --rules "$rules" \
    --identity "$d/identityinfo.jsonl" --store "$d/byoml.db" >/dev/null
  "$byoml" score -q --input "$d/export" --from "$from" --to "$to" --model "$d/models" --every 1h --no-store \
    --identity "$d/identityinfo.jsonl" --per-event --output "$d/scores.jsonl" >/dev/null
  "$byoml" evaluate --json --scores "$d/scores.jsonl" --labels "$d/labels.csv" --store "$d/byoml.db" > "$d/evaluate.json"
  python3 - "$seed" "$d/evaluate.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[2]))
m, n, r = j["all"]["model"], j["new_pairs"], j["rule_incidents"]
pct = lambda a, b: 100.0 * a / b if b else 0.0
print(f'{sys.argv[1]:<5} {j["users"]:>8} {m["average_precision"]:>8.3f} {n["model"]["roc_auc"]:>8.3f} '
      f'{n["first_seen"]["roc_auc"]:>9.3f} {r["incidents"]:>9} {pct(r["naming_labelled_account"], r["incidents"]):>8.1f}% '
      f'{pct(r["labelled_accounts_named"], r["labelled_accounts"]):>8.1f}% {r["false_incidents_per_1000_users_per_day"]:>9.2f} '
      f'{m["false_alerts_per_1000_users_per_day"]:>9.2f}')
PY
done
