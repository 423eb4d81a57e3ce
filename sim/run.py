"""The ``run`` job: replications of one scenario written to a run folder with provenance."""

from __future__ import annotations

import datetime as dt
import platform
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .compiled import compile_scenario
from .outputs import annual_table, atomic_folder, monthly_table, summary_table, write_json
from .plots import caseload_fan_chart
from .runner import run_replications
from .scenario import Scenario, content_hash


@dataclass
class RunSettings:
    replications: int = 20
    seed: int = 1
    workers: int = 1
    progress: bool | None = None


def default_out(scenario: Scenario) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(ch if ch.isalnum() else "_" for ch in scenario.name.lower()).strip("_")
    return Path("runs") / f"{stamp}-{slug}"


def run_to_folder(scenario: Scenario, settings: RunSettings, out: Path, force: bool = False) -> Path:
    """Simulate and write monthly/annual/summary CSVs, the fan chart and manifest.json."""
    started = time.perf_counter()
    compiled = compile_scenario(scenario)
    with atomic_folder(out, force=force) as tmp:
        results = run_replications(scenario, settings.seed, settings.replications, settings.workers, settings.progress)
        monthly = monthly_table(compiled, results)
        annual = annual_table(compiled, results)
        monthly.to_csv(tmp / "monthly.csv", index=False)
        annual.to_csv(tmp / "annual.csv", index=False)
        summary_table(annual).to_csv(tmp / "summary.csv", index=False)
        (tmp / "charts").mkdir()
        caseload_fan_chart(monthly, tmp / "charts" / "caseload.png", f"{scenario.name}: caseload")
        write_json(tmp / "scenario.json", scenario.model_dump(mode="json", by_alias=True))
        write_json(
            tmp / "manifest.json",
            {
                "scenario": scenario.name,
                "scenario_sha256": content_hash(scenario),
                "seed": settings.seed,
                "replications": settings.replications,
                "workers": settings.workers,
                "years": scenario.years,
                "package": "caseload-sim",
                "version": __version__,
                "python": platform.python_version(),
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "wall_seconds": round(time.perf_counter() - started, 3),
                "simpy_events": sum(r.events_processed for r in results),
                "clients_simulated": sum(r.clients for r in results),
                "files": ["monthly.csv", "annual.csv", "summary.csv", "charts/caseload.png", "scenario.json"],
            },
        )
    return out
