"""``caseload-sim explore``: a local web page to move a scenario's main levers (Dash)."""
