"""Results on disk: tidy tables, run folders that can be resumed, and the run's charts."""
