"""Run several of this folder's scripts in one process (one mlflow import for all of them).

Usage: python run_scripts.py SCRIPT [SCRIPT ...]
Each script prints one JSON document; this prints one JSON document of them, by script name.
"""

import contextlib
import io
import json
import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
out = {}
for name in sys.argv[1:]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        runpy.run_path(str(here / name), run_name="__main__")
    out[Path(name).stem] = json.loads(printed.getvalue().strip().splitlines()[-1])
print(json.dumps(out))
