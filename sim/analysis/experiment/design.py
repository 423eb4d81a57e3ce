"""The design of a simulated randomised experiment, read from a TOML file.

See ``scenarios/experiments/weten_wat_werkt.toml`` for the layout: the trial's
dates and sizes, the eligible states, the outcomes, and per arm a contact
intensity and/or hazard multipliers, each with a ``source``.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sim.model.loader import BUNDLED as SCENARIOS
from sim.model.loader import is_bare_name
from sim.util.inputs import read_input_text

BUNDLED = SCENARIOS / "experiments"
MAX_VOLUNTEERS = 100_000  # randomised volunteers: each is followed through the trial
CONTROL = "control"


@dataclass(frozen=True)
class Arm:
    """One arm: what changes for its volunteers during the trial."""

    name: str
    label: str
    contacts: float | None  # contacts per client-month (None: regular service)
    multipliers: dict[str, float]  # "state.transition" (shell patterns) -> hazard multiplier
    published: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    event: str | None  # a transition kind that counts when it happens during the trial
    states_at_end: tuple[str, ...]  # or: being in one of these states at the end


@dataclass(frozen=True)
class Design:
    """Everything about the trial except the caseload it runs in."""

    name: str
    scenario: str
    start: dt.date
    months: float
    randomised: int
    analysed: int
    eligible: tuple[str, ...]
    alpha: float
    power: float
    arms: tuple[Arm, ...]
    outcomes: tuple[Outcome, ...]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def treatments(self) -> list[Arm]:
        return [a for a in self.arms if a.name != CONTROL]


def resolve(name: str | Path) -> Path:
    """The name of a bundled design (``weten-wat-werkt``), or a design file path that exists.

    As for scenarios, a bare name is a bundled design and anything else a path:
    a missing path is an error, never a bundled design of the same name.
    """
    text = str(name)
    bundled = BUNDLED / f"{text.replace('-', '_')}.toml"
    if is_bare_name(text) and bundled.is_file():
        return bundled
    path = Path(text)
    if path.exists():
        return path
    names = ", ".join(sorted(p.stem.replace("_", "-") for p in BUNDLED.glob("*.toml")))
    raise ValueError(f"{name}: no such experiment (bundled: {names})")


def load_design(name: str | Path) -> Design:
    """Read and check a design file; errors name the key."""
    path = resolve(name)
    try:
        data = tomllib.loads(read_input_text(path))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ValueError(f"{path.name}: invalid TOML: {exc or type(exc).__name__}") from None
    try:
        arms = tuple(_arm(n, a) for n, a in data["arms"].items())
        outcomes = tuple(_outcome(n, o) for n, o in data["outcomes"].items())
        design = Design(
            name=_text(data["name"], "name"),
            scenario=_scenario_of(path, _text(data["scenario"], "scenario")),
            start=data["start"],
            months=_number(data["months"]["value"], "months.value"),
            randomised=_count(data["randomised"]["value"], "randomised.value"),
            analysed=_count(data["analysed"]["value"], "analysed.value"),
            eligible=tuple(data["eligible_states"]),
            alpha=_number(data["alpha"]["value"], "alpha.value"),
            power=_number(data["power"]["value"], "power.value"),
            arms=arms,
            outcomes=outcomes,
            sources={k: data[k]["source"] for k in ("months", "randomised", "analysed", "alpha", "power")}
            | {"eligible_states": data["eligible_source"]},
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path.name}: required key missing or not a table: {exc.args[0]}") from None
    if not 0 < design.randomised <= MAX_VOLUNTEERS:
        raise ValueError(f"{path.name}: randomised must be in 1..{MAX_VOLUNTEERS}")
    if not 0 < design.alpha < 1 or not 0 < design.power < 1:
        raise ValueError(f"{path.name}: alpha and power must lie between 0 and 1")
    if not 0 < design.months <= 120:
        raise ValueError(f"{path.name}: months must be in (0, 120]")
    if CONTROL not in [a.name for a in arms]:
        raise ValueError(f"{path.name}: arms: needs a '{CONTROL}' arm")
    if not 0 < design.analysed <= design.randomised:
        raise ValueError(f"{path.name}: analysed must be in 1..randomised")
    if not isinstance(design.start, dt.date) or isinstance(design.start, dt.datetime):
        raise ValueError(f"{path.name}: start must be a date (YYYY-MM-DD) without a time")
    return design


def _scenario_of(design_path: Path, name: str) -> str:
    """The design's caseload scenario: a bundled name, or a file next to the design file.

    The bundled designs name their scenario as a file of the bundled scenario folder
    (``utrecht_baseline.toml``); that is read as the bundled scenario of that name.
    """
    if is_bare_name(name):
        return name
    if design_path.resolve().parent == BUNDLED.resolve() and "/" not in name and name.endswith(".toml"):
        return name.removesuffix(".toml")
    return str(design_path.parent / name)


def _number(value: object, where: str) -> float:
    # strict like the scenario schema: true or "0.05" is a typo, not a number
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: must be a finite number, not {type(value).__name__} {value!r}")
    return float(value)


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: must be a whole number, not {type(value).__name__} {value!r}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError(f"{where}: must be a string of at most 200 characters")
    return value


def _arm(name: str, a: dict) -> Arm:
    contacts = a.get("contacts_per_client_month")
    mult = a.get("multipliers")
    for key, part in (("contacts_per_client_month", contacts), ("multipliers", mult)):
        if part is not None and not part.get("source"):
            raise ValueError(f"arms.{name}.{key}: needs a source")
    return Arm(
        name=name,
        label=a.get("label", name),
        contacts=_number(contacts["value"], f"arms.{name}.contacts_per_client_month.value") if contacts else None,
        multipliers={k: _number(v, f"arms.{name}.multipliers.{k}") for k, v in (mult or {}).get("values", {}).items()},
        published=dict(a.get("published", {})),
    )


def _outcome(name: str, o: dict) -> Outcome:
    if ("event" in o) == ("states_at_end" in o):
        raise ValueError(f"outcomes.{name}: give exactly one of event, states_at_end")
    return Outcome(name, o.get("label", name), o.get("event"), tuple(o.get("states_at_end", ())))
