#!/usr/bin/env python3
"""A minimal line-plot writer (SVG by hand, no plotting library): log-scaled x axis, linear or
log y axis, one polyline with markers per series, legend, axis labels."""
import math

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]
DASHES = ["", "6,3"]


def _ticks_log(lo, hi):
    out = []
    e = math.floor(math.log10(lo))
    for _ in range(40):
        for k in (1, 2, 5):
            v = k * 10 ** e
            if lo <= v * 1.0001 and v <= hi * 1.0001:
                out.append(v)
        e += 1
        if 10 ** e > hi * 10:
            break
    return out


def _ticks_lin(lo, hi, n=5):
    span = hi - lo if hi > lo else 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for k in (1, 2, 5, 10):
        if span / (step * k) <= n:
            step *= k
            break
    v = math.floor(lo / step) * step
    out = []
    for _ in range(50):
        if v > hi + 1e-9:
            break
        if v >= lo - 1e-9:
            out.append(v)
        v += step
    return out


def _fmt(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def line_plot(path, title, xlabel, ylabel, series, ylog=False, width=720, height=440):
    """series: list of (label, [(x, y), ...], style_index). Points with y None are skipped."""
    pts = [(x, y) for _, s, _ in series for x, y in s if y is not None and y > 0]
    if not pts:
        return False
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    x0, x1 = x0 / 1.3, x1 * 1.3
    if ylog:
        y0, y1 = y0 / 1.5, y1 * 1.5
    else:
        y0, y1 = 0.0, y1 * 1.1
    ml, mr, mt, mb = 80, 230, 40, 60
    pw, ph = width - ml - mr, height - mt - mb

    def sx(x):
        return ml + pw * (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0))

    def sy(y):
        if ylog:
            f = (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0))
        else:
            f = (y - y0) / (y1 - y0)
        return mt + ph * (1 - f)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{ml + pw / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
         f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    for t in _ticks_log(x0, x1):
        X = sx(t)
        o.append(f'<line x1="{X:.1f}" y1="{mt}" x2="{X:.1f}" y2="{mt + ph}" stroke="#ddd"/>')
        o.append(f'<text x="{X:.1f}" y="{mt + ph + 16}" text-anchor="middle">{_fmt(t)}</text>')
    for t in (_ticks_log(y0, y1) if ylog else _ticks_lin(y0, y1)):
        Y = sy(t) if (t > 0 or not ylog) else None
        if Y is None:
            continue
        o.append(f'<line x1="{ml}" y1="{Y:.1f}" x2="{ml + pw}" y2="{Y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{ml - 6}" y="{Y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    o.append(f'<text x="{ml + pw / 2}" y="{height - 15}" text-anchor="middle">{xlabel}</text>')
    o.append(f'<text x="18" y="{mt + ph / 2}" text-anchor="middle" '
             f'transform="rotate(-90 18 {mt + ph / 2})">{ylabel}</text>')
    for i, (label, s, style) in enumerate(series):
        s = sorted((x, y) for x, y in s if y is not None and y > 0)
        c = COLORS[i % len(COLORS)]
        dash = DASHES[style % len(DASHES)]
        da = f' stroke-dasharray="{dash}"' if dash else ""
        if len(s) > 1:
            p = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s)
            o.append(f'<polyline points="{p}" fill="none" stroke="{c}" stroke-width="2"{da}/>')
        for x, y in s:
            o.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{c}"/>')
        ly = mt + 10 + 18 * i
        o.append(f'<line x1="{ml + pw + 12}" y1="{ly}" x2="{ml + pw + 40}" y2="{ly}" '
                 f'stroke="{c}" stroke-width="2"{da}/>')
        o.append(f'<text x="{ml + pw + 46}" y="{ly + 4}">{label}</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")
    return True
