"""The container's health check: exit 0 if this process's /healthz answers 200, else 1 (and why).

Run by Docker's HEALTHCHECK inside the container, so it asks on loopback unless METRICS_HOST names
one particular address; METRICS_PORT must be set (the image sets 9464)."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

# Listening on every address includes loopback.
ANY_ADDRESS = {"", "0.0.0.0", "::"}


def main() -> int:
    port = os.environ.get("METRICS_PORT", "").strip()
    if not port:
        print("METRICS_PORT is not set: no /healthz to ask", file=sys.stderr)
        return 1
    host = os.environ.get("METRICS_HOST", "127.0.0.1").strip()
    host = "127.0.0.1" if host in ANY_ADDRESS else host
    host = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=4) as answer:
            return 0 if answer.status == 200 else 1
    except urllib.error.HTTPError as error:  # 503: the body says why
        print(error.read().decode("utf-8", "replace"), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"/healthz did not answer: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
