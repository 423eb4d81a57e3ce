"""The design of a simulated randomised experiment, read from a TOML file.

See ``scenarios/experiments/weten_wat_werkt.toml`` for the layout: the trial's
dates and sizes, the eligible states, the outcomes, and per arm a contact
intensity and/or hazard multipliers, each with a ``source``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sim.model.loader import BUNDLED as SCENARIOS

BUNDLED = SCENARIOS / "experiments"
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
    """A design file path, or the name of a bundled design (``weten-wat-werkt``)."""
    path = Path(name)
    if path.exists():
        return path
    bundled = BUNDLED / f"{str(name).replace('-', '_')}.toml"
    if bundled.exists():
        return bundled
    names = ", ".join(sorted(p.stem.replace("_", "-") for p in BUNDLED.glob("*.toml")))
    raise ValueError(f"{name}: no such experiment (bundled: {names})")


def load_design(name: str | Path) -> Design:
    """Read and check a design file; errors name the key."""
    path = resolve(name)
    data = tomllib.loads(path.read_text())
    try:
        arms = tuple(_arm(n, a) for n, a in data["arms"].items())
        outcomes = tuple(_outcome(n, o) for n, o in data["outcomes"].items())
        design = Design(
            name=data["name"],
            scenario=data["scenario"],
            start=data["start"],
            months=float(data["months"]["value"]),
            randomised=int(data["randomised"]["value"]),
            analysed=int(data["analysed"]["value"]),
            eligible=tuple(data["eligible_states"]),
            alpha=float(data["alpha"]["value"]),
            power=float(data["power"]["value"]),
            arms=arms,
            outcomes=outcomes,
            sources={k: data[k]["source"] for k in ("months", "randomised", "analysed", "alpha", "power")}
            | {"eligible_states": data["eligible_source"]},
        )
    except KeyError as exc:
        raise ValueError(f"{path.name}: required key missing: {exc.args[0]}") from None
    if CONTROL not in [a.name for a in arms]:
        raise ValueError(f"{path.name}: arms: needs a '{CONTROL}' arm")
    if not 0 < design.analysed <= design.randomised:
        raise ValueError(f"{path.name}: analysed must be in 1..randomised")
    if not isinstance(design.start, dt.date):
        raise ValueError(f"{path.name}: start must be a date")
    return design


def _arm(name: str, a: dict) -> Arm:
    contacts = a.get("contacts_per_client_month")
    mult = a.get("multipliers")
    for key, part in (("contacts_per_client_month", contacts), ("multipliers", mult)):
        if part is not None and not part.get("source"):
            raise ValueError(f"arms.{name}.{key}: needs a source")
    return Arm(
        name=name,
        label=a.get("label", name),
        contacts=float(contacts["value"]) if contacts else None,
        multipliers={k: float(v) for k, v in (mult or {}).get("values", {}).items()},
        published=dict(a.get("published", {})),
    )


def _outcome(name: str, o: dict) -> Outcome:
    if ("event" in o) == ("states_at_end" in o):
        raise ValueError(f"outcomes.{name}: give exactly one of event, states_at_end")
    return Outcome(name, o.get("label", name), o.get("event"), tuple(o.get("states_at_end", ())))
