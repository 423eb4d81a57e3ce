"""The ``run`` job: replications of one scenario written to a resumable run folder.

Layout of a run folder::

    .caseload-sim.json          marker: a folder this package made (see sim/io/safety.py)
    .caseload-sim.lock          present while a process writes here
    run.json                    what is being run (scenario hash, seed): checked on --resume
    replications/rep-000012.npz one per finished replication, written atomically, checksummed
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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import __version__
from sim.engines.backends import iter_replications, make_backend
from sim.engines.select import FIRST_RUN_NOTE, Choice, choose
from sim.io.plots import budget_charts, caseload_fan_chart
from sim.io.safety import claim_folder, merge_into, new_folder
from sim.io.tables import annual_table, group_table, month_labels, monthly_table, summary_table, write_json
from sim.io.workfolder import COMPLETE, TMP_PREFIX, WorkFolder, atomic_write_json, result_from_npz, result_to_npz
from sim.model import Scenario, content_hash
from sim.model.compiled import Compiled, compile_scenario
from sim.model.uncertainty import band_note
from sim.util.progress import Progress

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
    lang: str | None = None  # chart labels: nl or en (default: the scenario's language, else nl)
    kernel: str = "auto"  # sim.engines.select.KERNELS


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a run: the folder is kept for ``--resume``."""

    def __init__(self, folder: Path, saved: int):
        super().__init__(f"{saved} replications saved in {folder}")
        self.folder = folder
        self.saved = saved


def replication_folder(scenario: Scenario, seed: int, out: Path) -> WorkFolder:
    """The store of finished replications of ``scenario`` with ``seed`` in ``out``."""
    identity = {"format": FORMAT, "scenario": scenario.name, "scenario_sha256": content_hash(scenario), "seed": seed}
    return WorkFolder(out, identity, sub="replications", unit="rep", suffix=".npz")


def replication_stamp(scenario: Scenario, seed: int) -> dict:
    """What every replication file of this run must carry (checked before a saved one is reused)."""
    return {"scenario_sha256": content_hash(scenario), "seed": seed}


def run_to_folder(scenario: Scenario, settings: RunSettings, out: Path | None, force: bool = False) -> Path:
    """Simulate (skipping replications already saved when resuming) and write the run folder.

    Everything that can be refused is checked before the folder is touched: the
    compiled model, the backend (e.g. an unreachable scheduler) and the target.

    Args:
        scenario: A validated scenario.
        settings: Replications, seed, backend, resume.
        out: Output folder; None makes a new one under ``runs/``.
        force: Replace an existing run folder of ours.

    Returns:
        The run folder.

    Raises:
        sim.io.safety.OutputError: ``out`` may not be written (not ours, not empty, locked).
        ValueError: Resuming a folder that holds another scenario or seed.
        RunInterrupted: Ctrl-C; the finished replications stay for ``--resume``.
    """
    started = time.perf_counter()
    compiled = compile_scenario(scenario)
    kernel = choose(compiled, settings.kernel)  # before anything is written: a kernel that cannot run fails here
    with make_backend(settings.engine, settings.workers, settings.scheduler) as backend:
        if out is None:
            claim = new_folder("run", scenario.name)
        else:
            claim = claim_folder(Path(out), "run", force=force, resume=settings.resume)
        with claim:
            try:
                _simulate_into(scenario, compiled, settings, claim.path, backend, started, kernel)
            except KeyboardInterrupt:
                saved = len(replication_folder(scenario, settings.seed, claim.path).done())
                raise RunInterrupted(claim.path, saved) from None
    return claim.path


def _simulate_into(
    scenario: Scenario, compiled: Compiled, settings: RunSettings, out: Path, backend, started: float, kernel: Choice
) -> None:
    folder = replication_folder(scenario, settings.seed, out)
    folder.open(resume=settings.resume)
    stamp = replication_stamp(scenario, settings.seed)
    wanted = range(settings.replications)
    reused = folder.reusable(wanted, lambda path, r: result_from_npz(path, stamp | {"replication": r, "version": __version__}))
    todo = [r for r in wanted if r not in reused]
    # progress None (library default): a bar on a terminal only; True (the CLI): lines when not a terminal
    bar = Progress(
        settings.replications, scenario.name, initial=len(reused), quiet=settings.progress is False,
        lines=settings.progress is not None,
    )  # fmt: skip
    if kernel.kernel == "compiled" and todo:
        bar.note_if_slow(FIRST_RUN_NOTE)
    with bar:
        for result in iter_replications(scenario, settings.seed, todo, backend=backend, kernel=kernel.kernel):
            result_to_npz(result, folder.path(result.replication), stamp)
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
        "bands_cover": band_note(scenario),
        "package": "caseload-sim",
        "version": __version__,
        "python": platform.python_version(),
    }
    write_outputs(scenario, compiled, folder, settings.replications, manifest, started, lang=settings.lang)


def write_outputs(
    scenario: Scenario, compiled: Compiled, folder: WorkFolder, replications: int, manifest: dict, started: float,
    lang: str | None = None,
) -> None:
    """Build the tables and charts from the saved replications; move them in, manifest last."""
    out = folder.root
    (out / COMPLETE).unlink(missing_ok=True)  # the folder is incomplete until the new manifest lands
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}outputs-", dir=out))
    try:
        totals = _write_tables(scenario, compiled, folder, replications, tmp, lang)
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        merge_into(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    manifest |= totals | {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "files": files,
    }
    atomic_write_json(out / COMPLETE, manifest)


def _write_tables(
    scenario: Scenario, compiled: Compiled, folder: WorkFolder, replications: int, tmp: Path, lang: str | None = None
) -> dict:
    """Write every table and chart into ``tmp``, reading one saved replication at a time."""
    on = [i for i, s in enumerate(compiled.states) if s.on_caseload]
    annual_parts, group_parts, stocks = [], [], []
    events = clients = 0
    stamp = {"version": __version__, "scenario_sha256": folder.identity["scenario_sha256"], "seed": folder.identity["seed"]}
    with open(tmp / "monthly.csv", "w", newline="") as monthly_csv:
        for first in range(0, replications, TABLE_CHUNK):
            chunk = range(first, min(first + TABLE_CHUNK, replications))
            results = [result_from_npz(folder.path(r), stamp | {"replication": r}) for r in chunk]
            monthly_table(compiled, results).to_csv(monthly_csv, index=False, header=first == 0)
            annual_parts.append(annual_table(compiled, results, scenario.monitors))
            group_parts.append(group_table(compiled, results))
            stocks += [result.stock[:, on] for result in results]
            events += sum(int(result.events_processed) for result in results)
            clients += sum(int(result.clients) for result in results)
    annual = pd.concat(annual_parts, ignore_index=True)
    annual.to_csv(tmp / "annual.csv", index=False)
    summary_table(annual, band_note(scenario)).to_csv(tmp / "summary.csv", index=False)
    if compiled.attributes.names:  # outputs by focus group
        pd.concat(group_parts, ignore_index=True).to_csv(tmp / "groups.csv", index=False)
    # charts: every chart is drawn here from `annual` or `monthly_stock`
    (tmp / "charts").mkdir()
    monthly_stock = _stock_frame(compiled, on, np.stack(stocks))
    lang = lang or scenario.language
    labels = {name: state.label for name, state in scenario.states.items()}
    caseload_fan_chart(monthly_stock, tmp / "charts" / "caseload.png", scenario.name, labels, lang)
    budget_charts(annual, tmp / "charts", scenario.name, lang)
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
