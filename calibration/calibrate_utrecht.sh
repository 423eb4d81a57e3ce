#!/usr/bin/env bash
# The shipped Utrecht calibration (docs/calibration.md).
#
#   ./calibration/calibrate_utrecht.sh            writes a NEW folder runs/<timestamp>-calibration/
#   ./calibration/calibrate_utrecht.sh --install  then copies the result over the tracked files:
#                                                 calibration/report/ (utrecht_calibrated.toml, .draws.csv, .fit/),
#                                                 scenarios/utrecht_baseline.toml and utrecht_baseline.draws.csv,
#                                                 calibration/validation/ (pseudo_2019/, corona_2020/, starts.csv)
#
# Steps: (1) the MAP fit on 2015-2019 with its posterior draws; (2) two refits from starting points a
# factor 2 below and above, compared with (1) in starts.csv; (3) the pseudo-out-of-sample refit on
# 2015-2018 and its prediction of 2019; (4) the 2020 check with the corona scenario. The tracked files
# are replaced only with --install, after every step has finished; without it nothing outside the new
# folder is touched. REPLICATIONS, WORKERS, DRAWS and BACKTEST_REPLICATIONS set the effort (default 10, 2,
# 200 and 40); about 25 minutes on 2 cores with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

install=no
for arg in "$@"; do
  case "$arg" in
    --install) install=yes ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "error: unknown option $arg (use --install or --help)" >&2; exit 2 ;;
  esac
done

out="runs/$(date +%Y%m%d-%H%M%S)-calibration"
if [ -e "$out" ]; then
  echo "error: $out exists; wait a second and try again" >&2
  exit 2
fi
mkdir -p "$out"
targets=calibration/targets/utrecht.csv
free=(inflow.rate inflow.covariates.ww.elasticity
      states.arr1.transitions.work.rate states.arr1.transitions.work.covariates.ww.elasticity
      states.arr2.transitions.lks_job.rate states.arr3.transitions.up.rate states.arr3.transitions.down.rate
      states.arr3.transitions.scholing.rate states.employed.transitions.back.rate
      states.arr1.transitions.other.rate states.arr4.transitions.other.rate)
ties=(states.arr2.transitions.work.covariates.ww.elasticity=states.arr1.transitions.work.covariates.ww.elasticity
      states.deeltijd.transitions.full_time.covariates.ww.elasticity=states.arr1.transitions.work.covariates.ww.elasticity)
common=(--free "${free[@]}" --tie "${ties[@]}" --keep-attributes age_band --stages 2 --rounds 3
        --replications "${REPLICATIONS:-10}" --workers "${WORKERS:-2}")

# (1) the fit
# exit code 1 (a fitting target outside its tolerance) is reported in fit.csv and does not stop the script
caseload-sim calibrate "$targets" --scenario scenarios/utrecht_baseline.toml "${common[@]}" \
  --draws "${DRAWS:-200}" --out "$out/utrecht_calibrated.toml" || [ $? -eq 1 ]
# (2) the same fit from other starting points (no draws needed)
for scale in 0.5 2; do
  caseload-sim calibrate "$targets" --scenario scenarios/utrecht_baseline.toml "${common[@]}" \
    --draws 0 --start-scale "$scale" --out "$out/start_$scale.toml" || true
done
python3 - "$out" <<'PY'
import csv, math, sys
out = sys.argv[1]
main = {r["parameter"]: r for r in csv.DictReader(open(f"{out}/utrecht_calibrated.fit/identifiability.csv"))}
with open(f"{out}/starts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["parameter", "start_scale", "fitted", "refit", "difference", "posterior_sd", "within_2_sd"])
    for scale in ("0.5", "2"):
        other = {r["parameter"]: r for r in csv.DictReader(open(f"{out}/start_{scale}.fit/parameters.csv"))}
        for p, row in main.items():
            a, b = float(row["fitted"]), float(other[p]["fitted"])
            diff = math.log(b / a) if row["scale"] == "log" else b - a
            sd = float(row["posterior_sd"])
            w.writerow([p, float(scale), a, b, round(diff, 4), sd, abs(diff) <= 2 * sd])
PY
# (3) pseudo out of sample: fit 2015-2018, predict 2019
caseload-sim calibrate "$targets" --scenario scenarios/utrecht_baseline.toml "${common[@]}" \
  --draws "${DRAWS:-200}" --fit-until 2018-12 --out "$out/fit_2015_2018.toml" || true
caseload-sim backtest --scenario "$out/fit_2015_2018.toml" --targets "$targets" --fitted-until 2018-12 \
  --replications "${BACKTEST_REPLICATIONS:-40}" --out "$out/pseudo_2019"
# (4) the 2020 check: the calibrated baseline (with its draws) plus the corona scenario's changes
sed -e 's#^extends = "utrecht_baseline.toml"#extends = "utrecht_calibrated.toml"#' scenarios/corona_2020.toml > "$out/corona_2020.toml"
caseload-sim backtest --scenario "$out/corona_2020.toml" --targets "$targets" --replications "${BACKTEST_REPLICATIONS:-40}" --out "$out/corona_2020"

if [ "$install" = yes ]; then
  report=calibration/report validation=calibration/validation
  mkdir -p "$report/utrecht_calibrated.fit" "$validation/pseudo_2019" "$validation/corona_2020"
  cp "$out/utrecht_calibrated.toml" "$out/utrecht_calibrated.draws.csv" "$report/"
  cp "$out"/utrecht_calibrated.fit/* "$report/utrecht_calibrated.fit/"
  cp "$out/starts.csv" "$out/corona_2020.toml" "$report/"
  cp "$out"/pseudo_2019/* "$validation/pseudo_2019/"
  cp "$out"/corona_2020/* "$validation/corona_2020/"
  # the bundled baseline is the calibrated scenario, without the output marker, with its own draws file
  sed -e '1{/^# written by caseload-sim/d}' -e 's#^draws = "utrecht_calibrated.draws.csv"#draws = "utrecht_baseline.draws.csv"#' \
    "$out/utrecht_calibrated.toml" > scenarios/utrecht_baseline.toml
  cp "$out/utrecht_calibrated.draws.csv" scenarios/utrecht_baseline.draws.csv
  echo "installed $out into $report, $validation and scenarios/ (review with git diff before committing)" >&2
else
  echo "wrote $out; the tracked files are unchanged (use --install to replace them)" >&2
fi
