"""The client imports no server code (DESIGN.md section 3): only lmsbridge.schemas, httpx and the
standard library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lmsbridge.client

CLIENT = Path(lmsbridge.client.__file__).parent
ALLOWED_THIRD_PARTY = {"httpx"}


def test_client_modules_import_only_schemas_httpx_and_the_standard_library() -> None:
    offending = []
    for path in sorted(CLIENT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if name.startswith(("lmsbridge.client", "lmsbridge.schemas")) or name == "__future__":
                    continue
                if top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names:
                    continue
                offending.append(f"{path.name}: {name}")
    assert not offending, offending


def test_importing_the_client_loads_no_server_module() -> None:
    code = (
        "import sys, lmsbridge.client\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('lmsbridge') "
        "and not m.startswith(('lmsbridge.client', 'lmsbridge.schemas')) and m != 'lmsbridge'))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""
    for heavy in ("fastapi", "sqlalchemy", "pydantic"):
        check = f"import sys, lmsbridge.client; print({heavy!r} in sys.modules)"
        assert (
            subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout.strip()
            == "False"
        )
