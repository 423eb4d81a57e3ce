"""A werkmatcher team as an M/M/c queue, against Erlang C.

Scenario: Poisson inflow (lambda = 14/month) straight into one state served by
c = 20 slots (1 FTE x caseload 20); guided clients leave at mu = 0.8/month and
waiting clients cannot leave (requires_guidance). That is exactly M/M/c with
load 17.5 Erlang: P(wait) = C(20, 17.5) = 0.4632 and mean wait C/(c mu - lambda)
= 0.2316 months (the direct formula a^c/c! c/(c-a) / (sum_k<c a^k/k! + ...)).
Measured over 7 years after a 2-year warm-up from 18 clients (the relaxation time
1/(mu (sqrt c - sqrt a)^2) is ~15 months) in
150 replications; the tolerance is 3 standard errors across replications
(fixed seeds), which a slot pool that leaked slots or idled servers would miss.
"""

import numpy as np

from sim import compile_scenario, erlang_c, mean_wait, simulate
from tests.conftest import scenario_from

LAMBDA, MU, C = 14.0, 0.8, 20

SCENARIO = f"""
name = "mmc"
start = 2020-01-01
years = 9
[inflow]
rate = {{ value = {LAMBDA}, source = "test" }}
[intake]
mean_months = {{ value = 0, source = "test" }}
shares = {{ values = {{ q = 1.0 }}, source = "test" }}
[states.q]
label = "queue"
initial = {{ value = 18, source = "test" }}
initial_duration_months = {{ value = 1, source = "test" }}
[states.q.transitions.served]
to = "out"
kind = "exit_work"
rate = {{ value = {MU}, source = "test" }}
requires_guidance = true
[werkmatchers.team]
states = ["q"]
fte = {{ value = 1, source = "test" }}
caseload_norm = {{ value = {C}, source = "test" }}
contacts_per_fte_month = {{ value = 10, source = "test" }}
reference_contacts_per_client_month = {{ value = 0.5, source = "test" }}
unguided_contacts_per_client_month = {{ value = 0.1, source = "test" }}
"""




def test_werkmatcher_queue_matches_erlang_c(tmp_path):
    compiled = compile_scenario(scenario_from(tmp_path, SCENARIO))
    p_wait, w_mean = [], []
    for r in range(150):
        res = simulate(compiled, seed=99, replication=r, log_events=True)
        requested, waited = {}, []
        for ev in res.events:
            if ev.transition == "arrival":
                requested[ev.client] = ev.time
            elif ev.kind == "guidance" and ev.client in requested:
                t0 = requested.pop(ev.client)
                if t0 >= 24.0:
                    waited.append(ev.time - t0)
        waited = np.array(waited)
        p_wait.append(np.mean(waited > 0))
        w_mean.append(waited.mean())
    p_wait, w_mean = np.array(p_wait), np.array(w_mean)
    exact_p, exact_w = erlang_c(LAMBDA, MU, C), mean_wait(LAMBDA, MU, C)
    se_p, se_w = (x.std(ddof=1) / np.sqrt(len(x)) for x in (p_wait, w_mean))
    print(f"P(wait) DES {p_wait.mean():.4f} +- {se_p:.4f}, Erlang C {exact_p:.4f}")
    print(f"mean wait DES {w_mean.mean():.4f} +- {se_w:.4f}, Erlang C {exact_w:.4f} months")
    assert abs(exact_p - 0.46316) < 1e-4  # direct formula, computed independently
    assert abs(p_wait.mean() - exact_p) <= 3 * se_p
    assert abs(w_mean.mean() - exact_w) <= 3 * se_w


def test_erlang_c_known_values():
    # textbook values: c=1 reduces to rho; c=2, a=1 gives 1/3
    assert abs(erlang_c(0.5, 1.0, 1) - 0.5) < 1e-12
    assert abs(erlang_c(1.0, 1.0, 2) - 1 / 3) < 1e-12
