#!/usr/bin/env bash
# The shipped Utrecht calibration (docs/calibration.md). Run from the repository root.
# Writes calibration/report/utrecht_calibrated.toml and calibration/report/utrecht_calibrated.fit/.
set -euo pipefail
caseload-sim calibrate calibration/targets/utrecht.csv \
  --scenario scenarios/utrecht_baseline.toml \
  --free inflow.rate.values.2015-01-01 inflow.rate.values.2016-01-01 inflow.rate.values.2017-01-01 \
         inflow.rate.values.2018-01-01 inflow.rate.values.2019-01-01 \
         states.arr1.transitions.work.rate states.arr2.transitions.lks_job.rate \
         states.arr3.transitions.down.rate states.arr3.transitions.up.rate \
         states.employed.transitions.back.rate \
  --replications "${REPLICATIONS:-20}" --rounds 3 --workers "${WORKERS:-2}" \
  --out calibration/report/utrecht_calibrated.toml
