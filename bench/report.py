"""Plain-text tables and number formatting for the console report."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> str:
    """Columns padded to fit; the first `text_columns` left-aligned, the numbers right-aligned."""
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if i < text_columns else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(parts).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def section(title: str, notes: Sequence[str] = ()) -> None:
    print(f"\n== {title} ==")
    for note in notes:
        print(f"   {note}")
    print()


def rate_table(unit: str, base: str, figures: dict[str, tuple[float, float, float]]) -> str:
    """Apps by rate (`unit`), relative to the `base` app's rate, with p50/p99 latency:
    `figures` maps each app to (rate, p50 ms, p99 ms)."""
    rows = [
        [name, count(rate), ratio(rate / figures[base][0]), f"{p50:.2f}", f"{p99:.2f}"]
        for name, (rate, p50, p99) in figures.items()
    ]
    return table(["app", unit, f"vs {base}", "p50 ms", "p99 ms"], rows)


def ratios(lines: Sequence[tuple[str, float]]) -> None:
    """Labelled ratios, one a line, values aligned."""
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"  {label + ':':<{width + 1}}  {ratio(value)}")


def ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def count(value: float) -> str:
    return f"{value:,.0f}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"
