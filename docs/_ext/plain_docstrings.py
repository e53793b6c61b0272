"""A griffe extension for the API reference: sessionize's docstrings are
plain text with reST roles (``:func:`x```) and parameter blocks written as
``name:  text`` with indented continuation lines.  This turns the roles into
code spans and the parameter blocks into Markdown lists, so mkdocstrings
renders them as a reader expects; the docstrings themselves stay as they are
(``help()`` shows them unchanged)."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
# `name:  text`, `a, b:  text`: a parameter line (two spaces or more after the
# colon, or one when a continuation line follows)
PARAM = re.compile(r"^(?P<ind>\s*)(?P<names>[A-Za-z_][\w.]*(?:,\s*[A-Za-z_][\w.]*)*):\s+(?P<text>\S.*)$")


def convert(text: str) -> str:
    text = ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = PARAM.match(lines[i])
        if m and not m.group("ind") and (
                "  " in lines[i][m.end("names"):m.start("text")]
                or (i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip())):
            body = [m.group("text")]
            j = i + 1
            while j < len(lines) and lines[j].startswith(" ") and lines[j].strip():
                body.append(lines[j].strip())
                j += 1
            if out and out[-1].strip() and not out[-1].startswith("- `"):
                out.append("")
            names = ", ".join(f"`{n.strip()}`" for n in m.group("names").split(","))
            out.append(f"- {names}: " + " ".join(body))
            i = j
            continue
        if out and out[-1].startswith("- `") and lines[i].strip():
            out.append("")
        out.append(lines[i])
        i += 1
    return "\n".join(out)


class PlainDocstrings(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
