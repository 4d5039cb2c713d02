"""`make bench`: the benchmark that bench/run.py runs, split by concern into these modules."""
