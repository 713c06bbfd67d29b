"""`python -m simulator`: the `garden-sim` command line."""

from simulator.cli import main

raise SystemExit(main())
