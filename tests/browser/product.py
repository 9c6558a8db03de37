"""A product's frontend, as a Kombo customer writes it: one page that opens the connection flow
with Kombo's own `@kombo-api/connect` library (installed by npm into tests/browser/node_modules)
and shows what its promise settled with. Served on an origin of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LIBRARY = Path(__file__).parent / "node_modules" / "@kombo-api" / "connect" / "dist" / "index.js"

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Product</title></head>
<body>
<h1>Acme Learning (the product)</h1>
<button id="connect">Connect your LMS</button>
<pre id="result"></pre>
<script src="/kombo-connect.js"></script>
<script>
document.getElementById("connect").addEventListener("click", function () {
  var link = new URLSearchParams(location.search).get("link");
  KomboConnect.showKomboConnect(link).then(
    function (token) { document.getElementById("result").textContent = "token:" + token; },
    function (error) { document.getElementById("result").textContent = "error:" + error.name; }
  );
});
</script>
</body></html>
"""

# A hostile page: submits a form to the dashboard from another site (a CSRF attempt).
ATTACK = b"""<!doctype html>
<html><body>
<form id="attack" method="post" action="%s/dashboard/keys">
<input name="name" value="planted-by-attacker"><input name="csrf_token" value="guessed">
</form>
<script>document.getElementById("attack").submit();</script>
</body></html>
"""


class Product:
    def __init__(self) -> None:
        self.target = ""  # the lmsbridge base URL the attack page posts to

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/kombo-connect.js":
            body, kind = LIBRARY.read_bytes(), b"text/javascript"
        elif path == "/attack":
            body, kind = ATTACK % self.target.encode(), b"text/html"
        else:
            body, kind = PAGE, b"text/html"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": body})
