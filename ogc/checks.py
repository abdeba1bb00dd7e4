"""Deployment check: the protective middleware runs, possibly as a subclass.

Stands in for Django's security.W001–W003, which only recognise the stock classes by path and
are silenced in the settings because ums_site.middleware runs subclasses of them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.module_loading import import_string

PROTECTIVE = (SecurityMiddleware, CsrfViewMiddleware, XFrameOptionsMiddleware)


@register(deploy=True)
def protective_middleware_check(app_configs, **kwargs) -> list[Warning]:
    installed = [import_string(path) for path in settings.MIDDLEWARE]
    return [
        Warning(f"No {required.__module__}.{required.__name__} (or a subclass) in MIDDLEWARE.", id="ums.W001")
        for required in PROTECTIVE
        if not any(
            issubclass(middleware, required) for middleware in installed if isinstance(middleware, type)
        )
    ]
