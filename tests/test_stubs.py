"""The shipped type stubs describe the built binding: same names, nothing missing."""

import ast
import pathlib

import sessionize
from sessionize import _core, _stream

STUB = pathlib.Path(sessionize.__file__).with_name("_core.pyi")
STREAM_STUB = STUB.with_name("_stream.pyi")


def _stub_names(stub=STUB):
    tree = ast.parse(stub.read_text())
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


def test_stream_stub_describes_the_type():
    (cls,) = [n for n in ast.parse(STREAM_STUB.read_text()).body
              if isinstance(n, ast.ClassDef)]
    described = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            described.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            described.add(node.target.id)
    built = {n for n in vars(_stream.Stream) if not n.startswith("__")}
    assert _stub_names(STREAM_STUB) == {n for n in dir(_stream) if not n.startswith("_")}
    assert described - {"__init__"} == built


def test_py_typed_marker_is_shipped():
    assert STUB.with_name("py.typed").exists()


def test_ctr_stream_stub_describes_the_type():
    from sessionize import _ctr_stream
    stub = STUB.with_name("_ctr_stream.pyi")
    (cls,) = [n for n in ast.parse(stub.read_text()).body if isinstance(n, ast.ClassDef)]
    described = {node.name if isinstance(node, ast.FunctionDef) else node.target.id
                 for node in cls.body
                 if isinstance(node, (ast.FunctionDef, ast.AnnAssign))}
    built = {n for n in vars(_ctr_stream.CtrStream) if not n.startswith("__")}
    assert _stub_names(stub) == {n for n in dir(_ctr_stream) if not n.startswith("_")}
    assert described - {"__init__"} == built


def test_every_function_of_the_bindings_has_a_signature():
    # their docstrings open with a text signature, so inspect.signature and
    # mypy.stubtest (tests/test_typing.py) see the argument lists the stubs
    # must match; without one stubtest checks only the names
    import inspect

    from sessionize import _ctr_stream

    callables = [getattr(_core, n) for n in dir(_core)
                 if callable(getattr(_core, n)) and not isinstance(getattr(_core, n), type)]
    for cls in (_stream.Stream, _ctr_stream.CtrStream):
        callables.append(cls)
        callables += [getattr(cls, n) for n in vars(cls)
                      if not n.startswith("__") and callable(getattr(cls, n))]
    assert len(callables) > 20
    for f in callables:
        inspect.signature(f)  # ValueError: no signature found
