#!/usr/bin/env bash
# The shipped Utrecht calibration (docs/calibration.md).
#
#   ./calibration/calibrate_utrecht.sh            writes a NEW folder runs/<timestamp>-calibration/
#   ./calibration/calibrate_utrecht.sh --install  then copies the result over the tracked files in
#                                                 calibration/report/ (utrecht_calibrated.toml and .fit/)
#
# The tracked files are replaced only with --install, after the calibration has finished; without it
# nothing outside the new folder is touched. REPLICATIONS and WORKERS set the effort (default 20 and 2).
set -euo pipefail
cd "$(dirname "$0")/.."

install=no
for arg in "$@"; do
  case "$arg" in
    --install) install=yes ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "error: unknown option $arg (use --install or --help)" >&2; exit 2 ;;
  esac
done

out="runs/$(date +%Y%m%d-%H%M%S)-calibration"
if [ -e "$out" ]; then
  echo "error: $out exists; wait a second and try again" >&2
  exit 2
fi
mkdir -p "$out"
caseload-sim calibrate calibration/targets/utrecht.csv \
  --scenario scenarios/utrecht_baseline.toml \
  --free inflow.rate.values.2015-01-01 inflow.rate.values.2016-01-01 inflow.rate.values.2017-01-01 \
         inflow.rate.values.2018-01-01 inflow.rate.values.2019-01-01 \
         states.arr1.transitions.work.rate states.arr2.transitions.lks_job.rate \
         states.arr3.transitions.down.rate states.arr3.transitions.up.rate \
         states.employed.transitions.back.rate \
  --replications "${REPLICATIONS:-20}" --rounds 3 --workers "${WORKERS:-2}" \
  --out "$out/utrecht_calibrated.toml"

if [ "$install" = yes ]; then
  report=calibration/report
  mkdir -p "$report/utrecht_calibrated.fit"
  cp "$out/utrecht_calibrated.toml" "$report/utrecht_calibrated.toml"
  cp "$out"/utrecht_calibrated.fit/*.csv "$out"/utrecht_calibrated.fit/*.png "$out"/utrecht_calibrated.fit/manifest.json \
     "$report/utrecht_calibrated.fit/"
  echo "installed $out into $report (review with git diff before committing)" >&2
else
  echo "wrote $out; the tracked files in calibration/report/ are unchanged (use --install to replace them)" >&2
fi
