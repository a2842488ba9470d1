"""The activity chart's geometry, drawn server-side as SVG by templates/console/activity.html
(no script, nothing fetched; decision 036): a stacked bar per hour or day, denied on allowed."""

from authz_service.api.fields import rfc3339
from authz_service.log.activity_stats import Chart

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 44, 24, 10


def _ticks(highest: int) -> list[int]:
    """Up to six round values (steps of 1, 2 or 5 times a power of ten) for the vertical axis."""
    step, scale = 1, 1
    while highest / step > 5:
        for factor in (1, 2, 5):
            step = factor * scale
            if highest / step <= 5:
                break
        scale *= 10
    return list(range(0, highest + 1, step))


def draw(chart: Chart) -> dict:
    """{"bars": [...], "ticks": [...], "labels": [...], ...}: pixel positions and the numbers."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    count, top = len(chart.buckets), max(chart.highest, 1)
    slot = plot_w / max(count, 1)
    bars: list[dict] = []
    for i, (at, allowed, denied) in enumerate(chart.buckets):
        h_allowed, h_denied = plot_h * allowed / top, plot_h * denied / top
        base = TOP + plot_h
        bars.append({"at": rfc3339(at), "day": at.strftime("%Y-%m-%d"), "hour": at.strftime("%H:00"),
                     "allowed": allowed, "denied": denied, "x": round(LEFT + i * slot + slot * 0.1, 2),
                     "w": round(max(slot * 0.8, 0.5), 2), "y_allowed": round(base - h_allowed, 2),
                     "h_allowed": round(h_allowed, 2), "y_denied": round(base - h_allowed - h_denied, 2),
                     "h_denied": round(h_denied, 2)})
    every = max(1, count // 6)
    labels = [{"x": b["x"] + b["w"] / 2, "text": b["hour"] if chart.unit == "hour" and i % 24 else b["day"]}
              for i, b in enumerate(bars) if i % every == 0]
    ticks = [{"value": v, "y": round(TOP + plot_h - plot_h * v / top, 2)} for v in _ticks(chart.highest)]
    return {"unit": chart.unit, "bars": bars, "labels": labels, "ticks": ticks, "width": WIDTH,
            "height": HEIGHT, "left": LEFT, "base": TOP + plot_h,
            "allowed": sum(b["allowed"] for b in bars), "denied": sum(b["denied"] for b in bars)}
