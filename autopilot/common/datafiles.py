"""Where the engine's data files live, and how they are read.

Everything the engine knows that is data rather than logic (the diagnosis
training corpus, scanner report samples, the seed failure rules, the builtin
review rule packs) lives under ``autopilot/data/``; code finds it through
:data:`DATA_DIR`, never through its own position in the tree.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
