"""What every page of the service tells the browser about framing and scripts, in one place.

Every response except the development tools (`/_dev/…`: the local LINE platform, the chat
simulator, the sandbox provider) gets:

- `X-Frame-Options: DENY` and the policy's `frame-ancestors 'none'`: no other site shows a
  consent button, a registration card's code or a rotating check-in code inside a frame of
  its own (clickjacking, or a screen relayed from the venue).
- `X-Content-Type-Options: nosniff`.
- a Content-Security-Policy: nothing by default; scripts and styles only those that carry
  this response's nonce (a template writes `nonce="{{ csp_nonce() }}"` on each `<script>` and
  `<style>`) and LINE's LIFF SDK; images from here (the rotating code is a `blob:`); `fetch`
  to here and to LINE, and frames only LINE's (what the LIFF SDK needs); no `<base>`, no
  plugins.

`form-action` is left out: the consent form is answered with a 303 to the identity
provider, whose address discovery may name, and browsers hold a form's redirects to
`form-action` too. A view that sets its own policy keeps it.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

DEV_PREFIX = "/_dev/"
#: Where the LIFF pages load LINE's SDK from, and where the SDK itself connects.
LINE_SDK = "https://static.line-scdn.net"
LINE_HOSTS = ("https://*.line.me", "https://*.line-scdn.net")


def csp_nonce() -> str:
    """This response's nonce, made on first use (templates: `{{ csp_nonce() }}`)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def policy(nonce: str) -> str:
    line = " ".join(LINE_HOSTS)
    return "; ".join((
        "default-src 'none'",
        f"script-src 'nonce-{nonce}' {LINE_SDK}",
        f"style-src 'nonce-{nonce}'",
        "img-src 'self' blob: data:",
        f"connect-src 'self' {line}",
        f"frame-src {line}",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ))


def apply(response: Response) -> Response:
    if request.path.startswith(DEV_PREFIX):
        return response
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", policy(csp_nonce()))
    return response


def init_app(app: Flask) -> None:
    app.after_request(apply)
    app.context_processor(lambda: {"csp_nonce": csp_nonce})
