"""Evaluation (paper Sec. IV): metrics, benchmark protocols, harnesses, result files and the paper's values."""
