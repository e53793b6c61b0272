"""Builds the C extensions; everything else is in pyproject.toml.

Build switches (environment variables):
    SESSIONIZE_DEBUG=1     assertions on, -O0 -g
    SESSIONIZE_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer, no recovery,
                           assertions on, -O1 -g (.ci/sanitized-pytest runs the
                           test suite on it)

Flags are chosen per compiler when the build runs (build_ext knows it, the
Extension list does not): gcc and clang (Linux, macOS, MinGW) get C11 and
POSIX threads where the platform has them; MSVC gets /std:c11, and the core
uses Win32 threads there (csrc/parallel.c).
"""

import glob
import os
import sys

import numpy as np
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

debug = os.environ.get("SESSIONIZE_DEBUG") == "1"
sanitize = os.environ.get("SESSIONIZE_SANITIZE") == "1"

# relative paths: setuptools refuses absolute ones in an sdist build.
# nanoarrow (csrc/vendor/nanoarrow, bundled as its authors intend, its
# symbols in their own namespace) validates and reads Arrow arrays.
NANOARROW = "csrc/vendor/nanoarrow"
core = sorted(glob.glob("csrc/*.c")) + [f"{NANOARROW}/nanoarrow.c"]
headers = sorted(glob.glob("csrc/*.h") + glob.glob("sessionize/*.h")) + [f"{NANOARROW}/nanoarrow.h"]


def gcc_like_flags():
    """(compile, link) flags for gcc and clang."""
    compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    link_args = []
    if sys.platform != "win32":  # parallel.c: a pass may run in two parts
        compile_args.append("-pthread")
        link_args.append("-pthread")
    if debug or sanitize:
        compile_args += ["-O0" if debug else "-O1", "-g", "-fno-omit-frame-pointer"]
    else:
        compile_args += ["-O3"]
    if sanitize:
        flags = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
        compile_args += flags
        link_args += flags
    return compile_args, link_args


def msvc_flags():
    compile_args = ["/std:c11", "/W3"] + (["/Od", "/Zi"] if debug else ["/O2"])
    return compile_args, []


class BuildExt(build_ext):
    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        compile_args, link_args = msvc_flags() if msvc else gcc_like_flags()
        for ext in self.extensions:
            ext.extra_compile_args = compile_args
            ext.extra_link_args = link_args
        super().build_extensions()


macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
if debug or sanitize:
    macros.append(("SZ_DEBUG", "1"))


def extension(name: str, *binding: str) -> Extension:
    """One binding module (its C files), linked with the whole core."""
    return Extension(
        name,
        sources=[*binding, *core],
        depends=headers,
        include_dirs=["csrc", NANOARROW, np.get_include()],
        define_macros=macros,
        undef_macros=["NDEBUG"] if debug or sanitize else [],  # assertions on
    )


setup(
    cmdclass={"build_ext": BuildExt},
    ext_modules=[
        extension("sessionize._core", "sessionize/_core.c", "sessionize/_arrow_in.c"),
        extension("sessionize._stream", "sessionize/_stream.c"),
        extension("sessionize._ctr_stream", "sessionize/_ctr_stream.c"),
    ],
)
