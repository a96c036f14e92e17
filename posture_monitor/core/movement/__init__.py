"""Movement: joint-angle repetitions, exercise presets, form cues, symmetry, reliability."""
