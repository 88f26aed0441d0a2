"""scripts/realworld.py, imported as a module (scripts/ is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "realworld.py"


def load() -> ModuleType:
    if "realworld" in sys.modules:
        return sys.modules["realworld"]
    spec = importlib.util.spec_from_file_location("realworld", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up by name.
    sys.modules["realworld"] = module
    spec.loader.exec_module(module)
    return module
