"""One module per ``caseload-sim`` subcommand; each defines ``register(subparsers)``."""
