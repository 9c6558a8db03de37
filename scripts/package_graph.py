"""Prints lmsbridge's top-level package graph (who imports whom) and its cycles, if any.
    .venv/bin/python scripts/package_graph.py
grimp comes with import-linter (the dev extra)."""

from __future__ import annotations

import grimp


def main() -> None:
    graph = grimp.build_graph("lmsbridge")
    tops = sorted(m for m in graph.modules if m.count(".") == 1)
    edges: dict[str, set[str]] = {a: set() for a in tops}
    for a in tops:
        for b in tops:
            if a != b and graph.direct_import_exists(importer=a, imported=b, as_packages=True):
                edges[a].add(b)
    short = {m: m.split(".")[1] for m in tops}
    for a in tops:
        print(f"{short[a]} -> {' '.join(sorted(short[b] for b in edges[a]))}")
    cycles = [sorted(short[m] for m in component) for component in _components(edges) if len(component) > 1]
    print("cycles:", cycles or "none")


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan): each one with more than one package is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            found.append(component)

    for v in edges:
        if v not in index:
            visit(v)
    return found


if __name__ == "__main__":
    main()
