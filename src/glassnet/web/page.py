"""One self-contained HTML page: inline styles and classic scripts under a strict CSP.

Both browser pages of :mod:`glassnet.web` are built here. Everything is inline
(module scripts and separate files do not load from ``file://``), and the
Content-Security-Policy allows exactly those inline blocks by their SHA-256
hashes: ``default-src 'none'``, so the page can fetch nothing, run no other script
and apply no other style. JSON data blocks (``<script type="application/json">``)
are not run, so they need no hash; their text is escaped by
:func:`glassnet.web.json_text.readable_json`.

>>> html, csp = render_page(title="a < b", scripts=["forward.js"], styles=["glassnet.css"],
...                         data={"glassnet-model": "{}"})
>>> html.startswith("<!DOCTYPE html>"), "<title>a &lt; b</title>" in html
(True, True)
>>> csp.split("; ")[0], "'unsafe-inline'" in csp
("default-src 'none'", False)
"""

from __future__ import annotations

import base64
import hashlib
import html as html_module
from functools import cache
from importlib import resources

__all__ = ["asset_text", "content_security_policy", "render_page"]

_BASE_POLICY = {
    "default-src": "'none'",
    "img-src": "data:",
    "base-uri": "'none'",
    "form-action": "'none'",
}


@cache
def asset_text(name: str) -> str:
    """The text of ``glassnet/web/assets/NAME`` (package data, installed with glassnet)."""
    text = resources.files("glassnet.web").joinpath("assets", name).read_text("utf-8")
    if "</script" in text.lower() or "</style" in text.lower():
        raise RuntimeError(f"asset {name} would end its inline element early")
    return text


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(
    scripts: list[str], styles: list[str], extra: dict[str, str] | None = None
) -> str:
    """The policy allowing exactly these inline script and style texts."""
    policy = dict(_BASE_POLICY)
    policy["script-src"] = " ".join(_hash(text) for text in scripts)
    policy["style-src"] = " ".join(_hash(text) for text in styles)
    policy.update(extra or {})
    return "; ".join(f"{key} {value}" for key, value in policy.items())


def render_page(
    *,
    title: str,
    scripts: list[str],
    styles: list[str],
    data: dict[str, str],
    body: str = '<main id="glassnet-app"></main>',
    extra_policy: dict[str, str] | None = None,
) -> tuple[str, str]:
    """The HTML text of a page and its Content-Security-Policy.

    ``scripts`` and ``styles`` name asset files, inlined in that order after the
    ``data`` blocks (element id -> JSON text already made script-safe). The policy
    is in a ``<meta>`` element too, so a page opened from a file keeps it.
    """
    script_texts = [asset_text(name) for name in scripts]
    style_texts = [asset_text(name) for name in styles]
    policy = content_security_policy(script_texts, style_texts, extra_policy)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{html_module.escape(title)}</title>",
        # an empty icon: the browser asks for no /favicon.ico
        '<link rel="icon" href="data:,">',
    ]
    parts += [f"<style>{text}</style>" for text in style_texts]
    parts += ["</head>", "<body>", body]
    parts += [
        f'<script type="application/json" id="{element}">\n{text}\n</script>'
        for element, text in data.items()
    ]
    parts += [f"<script>{text}</script>" for text in script_texts]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts), policy
