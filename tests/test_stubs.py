"""The shipped type stubs describe the built binding: same names, nothing missing."""

import ast
import pathlib

import sessionize
from sessionize import _core

STUB = pathlib.Path(sessionize.__file__).with_name("_core.pyi")


def _stub_names():
    tree = ast.parse(STUB.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_stub_names_match_the_module():
    public = {n for n in dir(_core) if not n.startswith("_")}
    assert _stub_names() == public


def test_py_typed_marker_is_shipped():
    assert STUB.with_name("py.typed").exists()
