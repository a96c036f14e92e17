"""What every layer uses: errors, analysis settings, paths, private files, offline guard."""
