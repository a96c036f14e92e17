"""The metric table and the geometry that turns landmarks into posture measures."""
