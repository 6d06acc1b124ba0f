"""Run `python -m sample_fleet`."""

from sample_fleet.cli import main

raise SystemExit(main())
