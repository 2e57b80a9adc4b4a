"""GUI test set-up: offscreen Qt (also set by tests/conftest.py) and this folder's fakes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))
