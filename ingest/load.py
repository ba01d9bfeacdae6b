"""Load the workspace's exports into the raw tables: `python ingest/load.py [--workspace DIR]`.

The same as `balance ingest`; kept so that ingest runs on its own, beside `dbt build`.
"""

import sys

from balance.cli import main

if __name__ == "__main__":
    main(["ingest", *sys.argv[1:]])
