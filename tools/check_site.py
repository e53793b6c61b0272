"""Checks the built documentation site as a browser renders it.

    python tools/check_site.py SITE_DIR [--chromium chromium] [--screenshot PNG]

Opens SITE_DIR/index.html and one guide in headless Chromium
(`--dump-dom`: the DOM after the page's scripts ran), parses the DOM with
html.parser and checks that:

- the home page and the guide render: their main heading is there, and the
  page has its body text (not an error page);
- the navigation lists every page of mkdocs.yml's `nav`;
- a code block is highlighted: Pygments' token spans inside a highlighted
  block;
- the page loads nothing from the network (the site must work offline).

With --screenshot it also saves a screenshot of the home page.  Exit status
0 when every check holds, 1 otherwise, each failure on its own line.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import subprocess
import sys
from html.parser import HTMLParser

ROOT = pathlib.Path(__file__).resolve().parent.parent


def nav_pages(mkdocs_yml: pathlib.Path) -> list[str]:
    """The .md files that mkdocs.yml's nav names (read without PyYAML: the
    nav's leaves are `- Title: path.md` lines)."""
    text = mkdocs_yml.read_text()
    nav = text[text.index("\nnav:"):]
    return re.findall(r"^\s*-\s*[^:#\n]+:\s*([\w./-]+\.md)\s*$", nav, flags=re.M)


def page_url(md: str) -> str:
    """The built page of a .md file (use_directory_urls: a/b.md -> a/b/)."""
    if md == "index.md":
        return "index.html"
    if md.endswith("/index.md"):
        return md[: -len("index.md")] + "index.html"
    return md[:-3] + "/index.html"


class Dom(HTMLParser):
    """What the checks need from a rendered page."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.h1: list[str] = []
        self.nav_links: set[str] = set()
        self.in_nav = 0
        self.highlight_depth = 0
        self.pygments_spans = 0
        self.text_len = 0
        self.external: list[str] = []
        self._h1 = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        self.stack.append(tag)
        if tag == "nav" and "md-nav" in cls:
            self.in_nav += 1
        if tag == "a" and self.in_nav and a.get("href"):
            self.nav_links.add(a["href"])
        if tag == "div" and "highlight" in cls:
            self.highlight_depth = len(self.stack)
        if tag == "span" and self.highlight_depth and cls and len(self.stack) > self.highlight_depth:
            # Pygments' short token classes: k (keyword), n, s2, mi, o, ...
            if any(re.fullmatch(r"[a-z]{1,3}\d?", c) for c in cls):
                self.pygments_spans += 1
        if tag == "h1":
            self._h1 = ""
        for attr in ("src", "href"):
            v = a.get(attr) or ""
            if tag in ("script", "link", "img") and re.match(r"https?://", v):
                self.external.append(v)

    def handle_endtag(self, tag):
        while self.stack:
            t = self.stack.pop()
            if t == "nav" and self.in_nav:
                self.in_nav -= 1
            if t == "div" and self.highlight_depth and len(self.stack) < self.highlight_depth:
                self.highlight_depth = 0
            if tag == "h1" and t == "h1" and self._h1 is not None:
                self.h1.append(self._h1.strip())
                self._h1 = None
            if t == tag:
                break

    def handle_data(self, data):
        self.text_len += len(data.strip())
        if self._h1 is not None:
            self._h1 += data


def dump_dom(chromium: str, url: str) -> str:
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--virtual-time-budget=3000", "--dump-dom", url],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or "<html" not in r.stdout:
        raise SystemExit(f"chromium could not render {url}: {r.stderr[-2000:]}")
    return r.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site")
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--screenshot")
    ap.add_argument("--mkdocs-yml", default=str(ROOT / "mkdocs.yml"))
    args = ap.parse_args(argv)
    site = pathlib.Path(args.site).resolve()
    failures = []

    pages = nav_pages(pathlib.Path(args.mkdocs_yml))
    for md in pages:
        if not (site / page_url(md)).is_file():
            failures.append(f"{md}: not built ({page_url(md)} missing)")

    checks = {"index.md": "sessionize", "guides/streaming.md": "Streaming"}
    doms = {}
    for md, heading in checks.items():
        dom = Dom()
        dom.feed(dump_dom(args.chromium, (site / page_url(md)).as_uri()))
        doms[md] = dom
        if not any(heading in h for h in dom.h1):
            failures.append(f"{md}: no heading {heading!r} (h1: {dom.h1})")
        if dom.text_len < 500:
            failures.append(f"{md}: almost no text rendered ({dom.text_len} characters)")
        if dom.external:
            failures.append(f"{md}: loads from the network: {dom.external[:3]}")
        print(f"{md}: h1 {dom.h1}, {dom.text_len} characters of text, "
              f"{len(dom.nav_links)} navigation links, {dom.pygments_spans} highlighted tokens")

    # the navigation, as rendered on the home page, links every page
    home = doms["index.md"]
    linked = set()
    for href in home.nav_links:
        h = href.split("#")[0]
        h = re.sub(r"^(\./)+", "", h)
        linked.add(h if h.endswith(".html") else (h + "index.html" if h.endswith("/") or not h else h))
    for md in pages:
        url = page_url(md)
        if url not in linked and not (md == "index.md" and ("index.html" in linked or "." in home.nav_links)):
            failures.append(f"navigation: no link to {md} ({url})")

    for md, dom in doms.items():
        if dom.pygments_spans < 10:
            failures.append(f"{md}: code blocks are not highlighted ({dom.pygments_spans} token spans)")

    if args.screenshot:
        shot = pathlib.Path(args.screenshot).resolve()
        shot.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1280,900",
                            (site / "index.html").as_uri()], capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or not shot.is_file() or shot.stat().st_size < 10_000:
            failures.append(f"screenshot: not taken ({r.stderr[-500:]})")
        else:
            print(f"screenshot: {shot} ({shot.stat().st_size} bytes)")

    for f in failures:
        print("FAIL", f)
    print(f"{len(pages)} pages in the nav; {'all checks hold' if not failures else f'{len(failures)} failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
