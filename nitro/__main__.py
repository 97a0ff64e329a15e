"""`python -m nitro`: the same command line as `nitro`."""

from nitro.cli import main

raise SystemExit(main())
