"""Container HEALTHCHECK: GET $HEALTHCHECK_URL (default: the registry server's /health)."""

import os
import sys
import urllib.request

URL = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:5000/health")

try:
    with urllib.request.urlopen(URL, timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
