"""One frame's walk (the pipeline), alerts, baselines and desk tallies."""
