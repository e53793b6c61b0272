"""Builds the C extension; everything else is in pyproject.toml.

Build switches (environment variables):
    SESSIONIZE_DEBUG=1     assertions on, -O0 -g
    SESSIONIZE_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer, no recovery,
                           assertions on, -O1 -g (.ci/sanitized-pytest runs the
                           test suite on it)
"""

import glob
import os

import numpy as np
from setuptools import Extension, setup

debug = os.environ.get("SESSIONIZE_DEBUG") == "1"
sanitize = os.environ.get("SESSIONIZE_SANITIZE") == "1"

compile_args = ["-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter", "-pthread"]
link_args = ["-pthread"]  # parallel.c: a pass may run in two parts
macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
if debug or sanitize:
    compile_args += ["-O0" if debug else "-O1", "-g", "-fno-omit-frame-pointer"]
    macros.append(("SZ_DEBUG", "1"))
else:
    compile_args += ["-O3"]
if sanitize:
    flags = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    compile_args += flags
    link_args += flags

core = sorted(glob.glob("csrc/*.c"))



def extension(name: str, binding: str) -> Extension:
    """One binding module, linked with the whole core."""
    return Extension(
        name,
        sources=[binding, *core],
        include_dirs=["csrc", np.get_include()],
        define_macros=macros,
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        undef_macros=["NDEBUG"] if debug or sanitize else [],  # assertions on
    )


setup(
    ext_modules=[
        extension("sessionize._core", "sessionize/_core.c"),
        extension("sessionize._stream", "sessionize/_stream.c"),
        extension("sessionize._ctr_stream", "sessionize/_ctr_stream.c"),
    ],
)
