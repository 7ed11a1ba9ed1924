"""Load and memory benchmarks of the mock; each prints ratios against a same-run baseline.

Run `python bench/http_load.py [--quick]`; docs/performance.md has the commands and figures.
"""
