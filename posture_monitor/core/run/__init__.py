"""Running a source: batch analysis, the live engine and its threads, the display timeline."""
