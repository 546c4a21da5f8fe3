"""Intake of department files: readers, cell parsing, header detection, source specs, mapping."""
