"""A progress bar on standard error for long inputs: tqdm's when tqdm is
installed, a one-line counter otherwise, and nothing at all when standard
error is not a terminal (logs and pipes stay clean) or with --quiet."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total_bytes: int | None, enabled: bool, unit: str = "events"):
        self._on = enabled and sys.stderr.isatty()
        self._bar = None
        self._last = 0.0
        self._total = total_bytes
        self.unit = unit
        if not self._on:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total_bytes, unit="B", unit_scale=True, file=sys.stderr,
                         leave=False, mininterval=0.5)
        self._pos = 0

    @property
    def on(self) -> bool:
        """Whether anything is shown (callers may then skip finding the position)."""
        return self._on

    def update(self, events: int, position: int | None) -> None:
        if not self._on:
            return
        if self._bar is not None:
            if position is not None:
                self._bar.update(position - self._pos)
                self._pos = position
            self._bar.set_postfix_str(f"{events:,} {self.unit}", refresh=False)
            return
        now = time.monotonic()
        if now - self._last < 0.5:
            return
        self._last = now
        pct = f" {100 * position / self._total:5.1f}%" if self._total and position else ""
        sys.stderr.write(f"\r{events:,} {self.unit}{pct}")
        sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._on and self._last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
