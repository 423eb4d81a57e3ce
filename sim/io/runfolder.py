"""The ``run`` job: replications of one scenario written to a resumable run folder.

Layout of a run folder::

    run.json                    what is being run (scenario hash, seed): checked on --resume
    replications/rep-000012.npz one per finished replication, written atomically
    monthly.csv annual.csv summary.csv charts/ scenario.json
    manifest.json               written last: present only when the run is complete

Replications are streamed from the backend and saved one by one; the tables
are then built from the saved files in replication order, ``TABLE_CHUNK``
replications at a time, so the outputs are identical whether or not the run
was interrupted and resumed, and memory does not grow with monthly arrays.
"""

from __future__ import annotations

import datetime as dt
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim import __version__
from sim.engines.backends import iter_replications
from sim.engines.select import choose
from sim.io.plots import budget_charts, caseload_fan_chart
from sim.io.tables import annual_table, month_labels, monthly_table, summary_table, write_json
from sim.io.workfolder import COMPLETE, TMP_PREFIX, WorkFolder, result_from_npz, result_to_npz
from sim.model import Scenario, content_hash
from sim.model.compiled import Compiled, compile_scenario

FORMAT = 1  # version of the run-folder layout, part of the resume identity
TABLE_CHUNK = 50  # replications turned into table rows at once: vectorised, and memory stays bounded


@dataclass
class RunSettings:
    replications: int = 20
    seed: int = 1
    workers: int = 1
    progress: bool | None = None
    engine: str = "local"
    scheduler: str | None = None
    resume: bool = False
    kernel: str = "auto"  # sim.engines.select.KERNELS


def default_out(scenario: Scenario) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(ch if ch.isalnum() else "_" for ch in scenario.name.lower()).strip("_")
    return Path("runs") / f"{stamp}-{slug}"


def replication_folder(scenario: Scenario, seed: int, out: Path) -> WorkFolder:
    """The store of finished replications of ``scenario`` with ``seed`` in ``out``."""
    identity = {"format": FORMAT, "scenario": scenario.name, "scenario_sha256": content_hash(scenario), "seed": seed}
    return WorkFolder(out, identity, sub="replications", unit="rep", suffix=".npz")


def run_to_folder(scenario: Scenario, settings: RunSettings, out: Path, force: bool = False) -> Path:
    """Simulate (skipping replications already saved when resuming) and write the run folder.

    Raises:
        FileExistsError: ``out`` is not empty and neither ``settings.resume`` nor ``force``.
        ValueError: resuming a folder that holds another scenario or seed.
    """
    started = time.perf_counter()
    out = Path(out)
    compiled = compile_scenario(scenario)
    kernel = choose(compiled, settings.kernel)  # before anything is written: a kernel that cannot run fails here
    folder = replication_folder(scenario, settings.seed, out)
    folder.open(resume=settings.resume, force=force)
    wanted = range(settings.replications)
    reused = folder.done() & set(wanted)
    todo = [r for r in wanted if r not in reused]
    progress = sys.stderr.isatty() if settings.progress is None else settings.progress
    bar = tqdm(
        total=settings.replications, initial=len(reused), desc=scenario.name, unit="rep",
        disable=not progress, file=sys.stderr,
    )  # fmt: skip
    with bar:
        for result in iter_replications(
            scenario, settings.seed, todo, settings.workers, settings.engine, settings.scheduler, kernel=kernel.kernel
        ):
            result_to_npz(result, folder.path(result.replication))
            bar.update()
    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": content_hash(scenario),
        "seed": settings.seed,
        "replications": settings.replications,
        "replications_computed": len(todo),
        "replications_reused": len(reused),
        "engine": settings.engine,
        "kernel": kernel.kernel,  # the engine that ran the replications computed now
        "kernel_requested": settings.kernel,
        "kernel_reason": kernel.reason,
        "workers": settings.workers,
        "years": scenario.years,
        "package": "caseload-sim",
        "version": __version__,
        "python": platform.python_version(),
    }
    write_outputs(scenario, compiled, folder, settings.replications, manifest, started)
    return out


def write_outputs(scenario: Scenario, compiled: Compiled, folder: WorkFolder, replications: int, manifest: dict, started: float) -> None:
    """Build the tables and charts from the saved replications; move them in, manifest last."""
    out = folder.root
    (out / COMPLETE).unlink(missing_ok=True)  # the folder is incomplete until the new manifest lands
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}outputs-", dir=out))
    try:
        totals = _write_tables(scenario, compiled, folder, replications, tmp)
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        for name in sorted(p.name for p in tmp.iterdir()):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            (tmp / name).replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    manifest |= totals | {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "files": files,
    }
    tmp_manifest = out / f"{TMP_PREFIX}{COMPLETE}"
    write_json(tmp_manifest, manifest)
    tmp_manifest.replace(out / COMPLETE)


def _write_tables(scenario: Scenario, compiled: Compiled, folder: WorkFolder, replications: int, tmp: Path) -> dict:
    """Write every table and chart into ``tmp``, reading one saved replication at a time."""
    on = [i for i, s in enumerate(compiled.states) if s.on_caseload]
    annual_parts, stocks = [], []
    events = clients = 0
    with open(tmp / "monthly.csv", "w", newline="") as monthly_csv:
        for first in range(0, replications, TABLE_CHUNK):
            results = [result_from_npz(folder.path(r)) for r in range(first, min(first + TABLE_CHUNK, replications))]
            monthly_table(compiled, results).to_csv(monthly_csv, index=False, header=first == 0)
            annual_parts.append(annual_table(compiled, results))
            stocks += [result.stock[:, on] for result in results]
            events += sum(int(result.events_processed) for result in results)
            clients += sum(int(result.clients) for result in results)
    annual = pd.concat(annual_parts, ignore_index=True)
    annual.to_csv(tmp / "annual.csv", index=False)
    summary_table(annual).to_csv(tmp / "summary.csv", index=False)
    # charts: every chart is drawn here from `annual` or `monthly_stock`
    (tmp / "charts").mkdir()
    monthly_stock = _stock_frame(compiled, on, np.stack(stocks))
    caseload_fan_chart(monthly_stock, tmp / "charts" / "caseload.png", f"{scenario.name}: caseload")
    budget_charts(annual, tmp / "charts", scenario.name)
    write_json(tmp / "scenario.json", scenario.model_dump(mode="json", by_alias=True))
    return {"simpy_events": events, "clients_simulated": clients}


def _stock_frame(compiled: Compiled, on: list[int], stock: np.ndarray) -> pd.DataFrame:
    """The columns of ``monthly.csv`` a caseload chart needs, for on-caseload states only.

    Args:
        stock: End-of-month stocks, [replication, month, on-caseload state].
    """
    n_reps, n_months, n_on = stock.shape
    labels = month_labels(compiled)[:n_months]
    names = [compiled.states[i].name for i in on]
    return pd.DataFrame(
        {
            "replication": np.repeat(np.arange(n_reps), n_months * n_on),
            "period": pd.Categorical(np.tile(np.repeat(labels, n_on), n_reps)),
            "state": pd.Categorical(np.tile(names, n_reps * n_months), categories=names),
            "on_caseload": True,
            "stock": stock.reshape(-1),
        }
    )
