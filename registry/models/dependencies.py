"""Flavor libraries are optional extras: import one on first use, or say which extra installs it.

``pip install modelyard`` gives the server, the client and serving of custom Python models;
``modelyard[sklearn]``, ``modelyard[xgboost]`` and ``modelyard[all]`` add the flavors' libraries.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from registry.errors import FlavorNotInstalled


def require(module: str, flavor: str, extra: str | None = None) -> ModuleType:
    """Import ``module``, which the ``flavor`` flavor needs, from ``extra`` (default: ``flavor``).

    Raises:
        FlavorNotInstalled: the module cannot be imported; the message says which extra
            installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = extra or flavor
        err = FlavorNotInstalled(
            f"the {flavor} flavor needs `pip install 'modelyard[{extra}]'` "
            f"({type(exc).__name__}: {exc})",
            module=module,
            extra=extra,
        )
        err.name = module.split(".", 1)[0]
        raise err from exc
