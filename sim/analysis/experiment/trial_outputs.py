"""Write a simulated trial's outputs: effects.csv, power.csv, trials.csv, checks.csv and charts."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.analysis.experiment.trial import TrialResults, checks  # noqa: E402
from sim.io.tables import atomic_folder  # noqa: E402

EFFECT_COLUMNS = ["arm", "outcome", "estimate_pp", "ci_low", "ci_high", "p_value", "published"]


def write_outputs(res: TrialResults, out: Path, settings: dict, force: bool = False) -> Path:
    """Write the trial's tables, charts and manifest into ``out`` (a new folder, or one this process claimed)."""
    with atomic_folder(Path(out), force=force, kind="experiment") as tmp:
        extra = [c for c in res.effects.columns if c not in EFFECT_COLUMNS]
        res.effects[EFFECT_COLUMNS + extra].to_csv(tmp / "effects.csv", index=False)
        res.power.to_csv(tmp / "power.csv", index=False)
        res.trials.round(6).to_csv(tmp / "trials.csv", index=False)
        checks(res).to_csv(tmp / "checks.csv", index=False)
        comparison_chart(res, tmp / "effects.png")
        power_chart(res, tmp / "power.png")
        manifest = {"design": res.design.name, "settings": settings, "design_sources": res.design.sources,
                    "arms": {a.name: {"label": a.label, "contacts_per_client_month": a.contacts,
                                      "multipliers": a.multipliers} for a in res.design.arms}}  # fmt: skip
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return out


def comparison_chart(res: TrialResults, path: Path) -> None:
    """Simulated effects (mean and typical 95% CI, every trial as a dot) next to the published finding."""
    outcomes = [o.name for o in res.design.outcomes]
    arms = [a for a in res.design.treatments]
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), 4.4), sharey=False)
    for ax, outcome in zip(np.atleast_1d(axes), outcomes):
        label = next(o.label for o in res.design.outcomes if o.name == outcome)
        for i, arm in enumerate(arms):
            t = res.trials[(res.trials["arm"] == arm.name) & (res.trials["outcome"] == outcome)]
            e = res.effects[(res.effects["arm"] == arm.name) & (res.effects["outcome"] == outcome)].iloc[0]
            jitter = np.linspace(-0.12, 0.12, len(t)) if len(t) > 1 else [0.0]
            ax.scatter(i + np.asarray(jitter), t["estimate_pp"], s=6, color="#9ecae1", zorder=1)
            ax.errorbar(i, e["estimate_pp"], yerr=[[e["estimate_pp"] - e["ci_low"]], [e["ci_high"] - e["estimate_pp"]]],
                        fmt="o", color="#08519c", capsize=4, zorder=3)  # fmt: skip
            ax.annotate(_short(arm.published.get(outcome, "")), (i, e["ci_high"]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=6.5, color="#a50f15")  # fmt: skip
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(arms)), [a.label.split(":")[0] for a in arms])
        ax.set_title(label, fontsize=9)
        ax.set_ylabel("effect vs control (percentage points)")
    fig.suptitle(f"{res.design.name}: simulated trials (dots), mean and typical 95% CI; red: published (CPB)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def power_chart(res: TrialResults, path: Path) -> None:
    p = res.power
    labels = [f"{a}\n{o}" for a, o in zip(p["arm"], p["outcome"])]
    x = np.arange(len(p))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.bar(x - 0.2, p["mde_pp"], width=0.4, color="#fdae6b", label="MDE at 80% power (pp)")
    ax.bar(x + 0.2, p["simulated_effect_pp"].abs(), width=0.4, color="#6baed6", label="|simulated effect| (pp)")
    ax2 = ax.twinx()
    ax2.plot(x, p["simulated_rejection_rate"], "k^", label="rejection rate")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("share of trials with p < alpha")
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("percentage points")
    ax.legend(loc="upper left", fontsize=7)
    ax2.legend(loc="upper right", fontsize=7)
    ax.set_title("Power of a 4-arm trial with about 175 an arm", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _short(text: str) -> str:
    """A published finding as a short chart label."""
    lowered = text.lower()
    if "slightly more" in lowered:
        return "CPB: small +"
    if "no negative" in lowered:
        return "CPB: not negative"
    if "no significant" in lowered:
        return "CPB: n.s."
    return text if len(text) <= 20 else text[:18] + "..."
