"""What users do with the engines: compare scenarios, goal-seek, monitor, sweep, calibrate, experiment."""
