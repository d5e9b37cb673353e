"""Measure how many functions of a package carry type annotations.

Usage: ``python scripts/annotation_share.py [PACKAGE_DIR] [--public]``.

A function counts as annotated when its return type and every parameter except ``self``/``cls`` (and
``*args``/``**kwargs``) are annotated. Migrations are skipped (generated code). ``--public`` counts only
functions whose name and enclosing class do not start with an underscore (dunder methods count).
Prints ``annotated/total (share%)`` and, with ``-v``, the functions that are not annotated.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path


def _functions(tree: ast.AST) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """Yield every function with whether it is public (its name and its classes' names)."""

    def walk(node: ast.AST, public: bool) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = child.name
                child_public = public and (not name.startswith("_") or (name.startswith("__") and name.endswith("__")))
                yield child, child_public
                yield from walk(child, False)  # nested functions are private helpers
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, public and not child.name.startswith("_"))
            else:
                yield from walk(child, public)

    yield from walk(tree, True)


def is_annotated(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = func.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if params and params[0].arg in {"self", "cls", "mcs"}:
        params = params[1:]
    if func.returns is None and func.name != "__init__":
        return False
    return all(p.annotation is not None for p in params)


def measure(root: Path, public_only: bool = False) -> tuple[int, list[str]]:
    total = 0
    missing: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for func, public in _functions(tree):
            if public_only and not public:
                continue
            total += 1
            if not is_annotated(func):
                missing.append(f"{path}:{func.lineno} {func.name}")
    return total, missing


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("-")}
    paths = [a for a in argv if not a.startswith("-")]
    root = Path(paths[0] if paths else "mfa_oauth")
    total, missing = measure(root, public_only="--public" in flags)
    annotated = total - len(missing)
    share = 100.0 * annotated / total if total else 100.0
    print(f"{annotated}/{total} functions annotated ({share:.1f}%)")
    if "-v" in flags:
        print("\n".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
