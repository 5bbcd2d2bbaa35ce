#!/usr/bin/env bash
# The detection figures of docs/detection.md, end to end with the shipped defaults, per seed of
# the generated company: train on four weeks, score the fifth hour by hour with byoml's rule
# after each hour (and the identity data), then evaluate every event and the rule's incidents.
# A second line per seed ("ref") is the reference recipe on the same events: share-only
# resources and the reference's scoring (--mode reference: threshold 0.5, unseen users and
# resources unscored, no context); its incidents are its flagged events grouped per account and
# day (the reference ships no rule of its own).
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
  "$byoml" train -q --input "$d/export" --to "$from" --model "$d/ref-models" --no-store --resource-scope share >/dev/null
  "$byoml" score -q --input "$d/export" --from "$from" --to "$to" --model "$d/ref-models" --mode reference --every 1h \
    --no-store --per-event --output "$d/ref-scores.jsonl" >/dev/null
  "$byoml" evaluate --json --scores "$d/ref-scores.jsonl" --labels "$d/labels.csv" > "$d/ref-evaluate.json"
  python3 - "$seed" "$d/evaluate.json" "$d/ref-evaluate.json" <<'PY'
import json, sys
pct = lambda a, b: 100.0 * a / b if b else 0.0
def line(name, j, r):
    m, n = j["all"]["model"], j["new_pairs"]
    print(f'{name:<5} {j["users"]:>8} {m["average_precision"]:>8.3f} {n["model"]["roc_auc"]:>8.3f} '
          f'{n["first_seen"]["roc_auc"]:>9.3f} {r["incidents"]:>9} {pct(r["naming_labelled_account"], r["incidents"]):>8.1f}% '
          f'{pct(r["labelled_accounts_named"], r["labelled_accounts"]):>8.1f}% {r["false_incidents_per_1000_users_per_day"]:>9.2f} '
          f'{m["false_alerts_per_1000_users_per_day"]:>9.2f}')
j, ref = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
line(sys.argv[1], j, j["rule_incidents"])
line("ref", ref, ref["all"]["model"]["incidents"])
PY
done
