#!/usr/bin/env python3
"""Plots one or more rss-over-time.sh CSV files as an SVG line chart (no plotting library needed): one line per
series, its mean and maximum after the first minute in the legend, the time axis in minutes for runs over 10 min.
Usage: plot-rss.py OUT.svg LABEL=FILE.csv [LABEL=FILE.csv ...]"""
import sys

W, H, L, R, T, B = 720, 360, 60, 20, 30, 40
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def read(path):
    points = []
    with open(path) as f:
        next(f)
        for line in f:
            s, kb = line.strip().split(",")
            points.append((int(s), int(kb) / 1024))
    return points


def after_first_minute(points):
    """Mean and maximum MB of the samples from second 60 on (all samples for a shorter run)."""
    ys = [y for x, y in points if x >= 60] or [y for _, y in points]
    return sum(ys) / len(ys), max(ys)


def main():
    out, series = sys.argv[1], [a.rsplit("=", 1) for a in sys.argv[2:]]
    data = [(label, read(path)) for label, path in series]
    xmax = max(p[0] for _, pts in data for p in pts) or 1
    ymax = max(p[1] for _, pts in data for p in pts)
    ymax = max(30, (int(ymax / 10) + 1) * 10)
    sx = lambda x: L + (W - L - R) * x / xmax
    sy = lambda y: H - B - (H - T - B) * y / ymax
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for y in range(0, ymax + 1, 10):
        svg.append(f'<line x1="{L}" y1="{sy(y):.1f}" x2="{W - R}" y2="{sy(y):.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{L - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y}</text>')
    minutes = xmax > 600
    step = (600 if xmax > 1800 else 300) if minutes else max(1, xmax // 6)
    for x in range(0, xmax + 1, step):
        svg.append(f'<text x="{sx(x):.1f}" y="{H - B + 16}" text-anchor="middle">{x // 60 if minutes else x}</text>')
    svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 6}" text-anchor="middle">{"minutes" if minutes else "seconds"}</text>')
    svg.append(f'<text x="14" y="{(T + H - B) / 2}" transform="rotate(-90 14 {(T + H - B) / 2})" text-anchor="middle">resident MB (VmRSS)</text>')
    svg.append(f'<line x1="{L}" y1="{sy(25):.1f}" x2="{W - R}" y2="{sy(25):.1f}" stroke="#999" stroke-dasharray="4 3"/>')
    svg.append(f'<text x="{W - R - 4}" y="{sy(25) - 4:.1f}" text-anchor="end" fill="#666">25 MB target</text>')
    for i, (label, pts) in enumerate(data):
        c = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        svg.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{path}"/>')
        mean, peak = after_first_minute(pts)
        svg.append(f'<text x="{L + 10}" y="{T + 4 + 16 * i}" fill="{c}">{label}: mean {mean:.1f} MB, max {peak:.1f} MB after the first minute</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
