"""No async route handler reads or writes the workspace on the event loop: an ``async def`` in a route module
(a handler, or an async helper one awaits) may open ``state.writing(...)``, ``state.reader(...)``,
``auth.reader(...)`` or ``Reader(...)`` only inside a nested plain function (the one handed to
``run_in_threadpool``); otherwise one write stalls every other request of the single-process server.

A check of the source text. A plain helper of the same module called from an async body (``_firm_of_form(...)``)
is followed, and the helpers it calls in turn; a call handed to ``run_in_threadpool(helper, ...)`` is not a call
on the loop. Helpers of other modules are not followed."""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from mujun.web.routes import ROUTERS

BLOCKING_ATTRS = {"writing", "reader"}  # state.writing(...), state.reader(...), auth.reader(...)
BLOCKING_NAMES = {"Reader"}


def _async_functions() -> Iterator[Any]:
    """Every async endpoint of ROUTERS and every async function defined in the endpoints' modules."""
    seen: set[Any] = set()
    modules = set()
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                fn = inspect.unwrap(route.endpoint)  # @page wraps a plain handler and offloads it itself
                modules.add(fn.__module__)
                if inspect.iscoroutinefunction(fn) and fn not in seen:
                    seen.add(fn)
                    yield fn
    for name in sorted(modules):
        for _, fn in inspect.getmembers(sys.modules[name], inspect.iscoroutinefunction):
            if fn.__module__ == name and fn not in seen:
                seen.add(fn)
                yield fn


def _loop_calls(node: ast.AST) -> Iterator[ast.Call]:
    """Calls in ``node``'s body, not descending into nested functions or lambdas."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.Call):
            yield child
        yield from _loop_calls(child)


def _blocking(call: ast.Call) -> bool:
    f = call.func
    return (isinstance(f, ast.Attribute) and f.attr in BLOCKING_ATTRS) or (
        isinstance(f, ast.Name) and f.id in BLOCKING_NAMES
    )


def _helper(fn: Any, call: ast.Call) -> Any:
    """The plain function of ``fn``'s module that ``call`` calls by name, or None."""
    if not isinstance(call.func, ast.Name):
        return None
    got = getattr(sys.modules[fn.__module__], call.func.id, None)
    plain = inspect.isfunction(got) and not inspect.iscoroutinefunction(got)
    return got if plain and got.__module__ == fn.__module__ else None


def _blocking_calls(fn: Any, path: str, seen: set[Any]) -> Iterator[str]:
    """Workspace reads or writes ``fn`` makes on the loop, itself or through its module's plain helpers."""
    top = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    assert isinstance(top, ast.AsyncFunctionDef | ast.FunctionDef), fn
    for call in _loop_calls(top):
        if _blocking(call):
            yield f"{path}: {ast.unparse(call.func)}(...) on the event loop"
        helper = _helper(fn, call)
        if helper is not None and helper not in seen:
            seen.add(helper)
            yield from _blocking_calls(helper, f"{path} → {helper.__name__}", seen)


def test_async_handlers_offload_workspace_access() -> None:
    found, checked = [], 0
    for fn in _async_functions():
        checked += 1
        found += _blocking_calls(fn, f"{fn.__module__}.{fn.__name__}", {fn})
    assert checked > 10  # the handlers are found at all
    assert not found, "\n".join(found)
