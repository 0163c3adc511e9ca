"""What the browser tests of glassnet.web share: Debian's Chromium through Playwright.

Playwright's own browser download cannot work on these machines, so the tests drive
``/usr/bin/chromium`` (``apt-get install chromium``; another binary with
``GLASSNET_CHROMIUM=/path``) through Python Playwright, headless, with a fresh
profile. When the browser or Playwright is missing, the tests skip on a developer's
machine, saying how to enable them, and fail under ``CI`` (set by .ci/run), where
they must run. One browser serves every test of the session; each test gets a
fresh context (its own cookies, storage and cache).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
HOW_TO_ENABLE = (
    "to run the browser tests: apt-get install chromium (or set GLASSNET_CHROMIUM) "
    "and pip install -e '.[test]' (it brings playwright; never run `playwright install`)"
)

_session: dict[str, Any] = {}


def why_no_browser(chromium: str = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        return f"no Chromium at {chromium}"
    return None


def require_browser(chromium: str = CHROMIUM, ci: str | None = None) -> None:
    """Skip (developer machine) or fail (CI) when the browser tests cannot run."""
    reason = why_no_browser(chromium)
    if reason is None:
        return
    if ci is None:
        ci = os.environ.get("CI", "")
    if ci and ci.lower() not in ("0", "false", "no"):
        pytest.fail(f"CI must run the browser tests, but {reason}; {HOW_TO_ENABLE}")
    pytest.skip(f"{reason}; {HOW_TO_ENABLE}")


def _browser() -> Any:
    if "browser" not in _session:
        from playwright.sync_api import sync_playwright

        manager = sync_playwright().start()
        _session["manager"] = manager
        _session["browser"] = manager.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        atexit.register(_close)
    return _session["browser"]


def _close() -> None:
    browser, manager = _session.pop("browser", None), _session.pop("manager", None)
    if browser is not None:
        browser.close()
    if manager is not None:
        manager.stop()


class Page:
    """A fresh browser page that records requests, console messages and errors."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        self.context = _browser().new_context(
            viewport={"width": width, "height": height}
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and dialogs (alert)."""
        found = [
            f"console {kind}: {text}"
            for kind, text in self.console
            if kind in ("error", "warning")
        ]
        return (
            found
            + [f"page error: {e}" for e in self.errors]
            + [f"dialog: {d}" for d in self.dialogs]
        )

    def close(self) -> None:
        self.context.close()


def wait_until(
    page: Any, expression: str, arg: Any = None, timeout: float = 30.0
) -> Any:
    """Poll ``expression`` (a JS expression or function of ``arg``) until it is truthy.

    Playwright's ``wait_for_function`` polls with ``eval``, which the pages' CSP
    forbids (no 'unsafe-eval'); ``page.evaluate`` goes through the debugger protocol.
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for: {expression}"
            )
        time.sleep(0.05)


def fresh_page() -> Iterator[Page]:
    """A fresh page in Debian's Chromium (skips or fails as :func:`require_browser`).

    Each browser test module makes it its ``browser_page`` fixture.
    """
    require_browser()
    page = Page()
    try:
        yield page
    finally:
        page.close()


def test_a_missing_browser_skips_on_a_developer_machine() -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_browser("/nonexistent/chromium", ci="")


def test_a_missing_browser_fails_under_ci() -> None:
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        require_browser("/nonexistent/chromium", ci="true")
