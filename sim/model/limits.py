"""Limits on every size that drives memory or run time, each with the reason for its value.

A scenario or command line beyond a limit is refused before any work starts,
with the limit in the message. Each limit sits far above any real
municipality (Utrecht: ~10,000 households, 6 attribute profiles, 17 levers) so
only typos and hostile input meet them. Listed in ``docs/safety.md``.
"""

MAX_TEXT = 2_000  # characters in any string (names, labels, sources): a source note is ~200
MAX_NAME = 64  # characters in a state, transition, team, lever, attribute or level name
MAX_SCENARIO_NAME = 200  # characters in a scenario's name: it becomes a folder name
MAX_STATES = 200
MAX_TRANSITIONS = 50  # per state
MAX_TEAMS = 50
MAX_LEVERS = 200  # every lever is checked against every transition when compiling
MAX_ATTRIBUTES = 12
MAX_PROFILES = 4_096  # product of the attribute level counts: rates are tabulated per profile
MAX_DATED = 1_200  # dated values in one table: one a month for 100 years
MAX_HOUSEHOLDS = 500_000  # initial households, summed over states: the whole Netherlands has ~420,000
MAX_ARRIVALS = 2_000_000  # expected new households over the horizon at the base inflow rate
MAX_SEASONAL = 12.0  # a month's inflow at most 12 times the average month
MAX_EUROS = 1e12  # any amount of money: books are kept in integer cents (int64 holds 9.2e16 euros)
MAX_POTS = 50  # Participatiebudget pots, programmes, and transitions one pot or fund pays

MAX_REPLICATIONS = 10_000
MAX_REPLICATION_MONTHS = 1_200_000  # replications x horizon months: 10,000 replications of 10 years
MAX_WORKERS = 256
MAX_SEED = 2**63 - 1
