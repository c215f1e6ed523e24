"""PySpark's worker daemon with this package imported once, for the test session.

Spark forks a Python worker from its daemon for every task it cannot give to an idle
worker (after a task fails, for instance). Importing ``slicing`` in the daemon first
means forked workers start with it loaded, instead of paying seconds of imports each
(``spark.python.daemon.module`` in ``test/spark_conftest.py``).
"""

from pyspark import daemon

import slicing.apply.spark_frame  # noqa: F401 - preloaded for the forked workers

if __name__ == "__main__":
    daemon.manager()
