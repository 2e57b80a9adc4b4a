"""`python -m engine.cli`: the `plexsync` command, as the tests and benches start it."""

from engine.cli.main import main

if __name__ == "__main__":  # importing it (as the layering test does) runs nothing
    raise SystemExit(main())
