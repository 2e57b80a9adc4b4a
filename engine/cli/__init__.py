"""The `plexsync` command: one module per command group (`main.py` holds the parser, status
and breaker commands; `python -m engine.cli` runs it).

The top layer: may import any engine package, and `plexsync_sim` for `plexsync sim`. Commands
import what they use inside their own body, so `plexsync status` stays fast.
"""
