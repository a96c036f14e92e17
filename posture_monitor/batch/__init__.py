"""`posture-monitor batch`: many videos as tasks on Dask distributed (a local cluster or
an existing one), resumable through DIR/manifest.csv, with a study table
(DIR/summary.csv) and researcher formats. Each task runs the same analysis as `analyze`."""
