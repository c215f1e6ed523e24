"""snorkel-team/snorkel's own test/slicing tests, run against ``slicing``."""
