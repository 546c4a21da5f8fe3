"""Evaluation results, workspaces and immutable stored runs."""
