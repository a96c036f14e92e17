"""What is kept: CSV and sidecar, the session database, exports, PDF reports, settings."""
