#include "harness/report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "harness/core/escape.hpp"

namespace harness {
namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 62, kRight = 16, kTop = 40, kBottom = 46;

std::string tick_label(double v) {
  if (std::fabs(v) < 1e-9) return "0";
  return fmt::format("{:g}", v);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string render_svg(const Chart& chart) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_hi = 0;
  bool any = false;
  bool x_integral = true;
  for (const auto& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      any = true;
      x_integral = x_integral && x == std::floor(x);
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      y_hi = std::max(y_hi, y);
    }
  }
  for (const auto& m : chart.markers) {
    if (!any || !std::isfinite(m.x)) continue;
    x_lo = std::min(x_lo, m.x);
    x_hi = std::max(x_hi, m.x);
  }
  std::string out = fmt::format(
      R"(<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">)",
      kWidth, kHeight);
  out += fmt::format(R"(<title>{}</title>)", html_escape(chart.title));
  out +=
      fmt::format(R"(<text x="{}" y="16" class="ct">{}</text>)", kLeft, html_escape(chart.title));
  if (!any) {
    out += fmt::format(R"(<text x="{}" y="{}" class="nd">no data</text></svg>)", kWidth / 2,
                       kHeight / 2);
    return out;
  }
  if (x_hi <= x_lo) {  // one x value: give it some room
    x_lo -= 1;
    x_hi += 1;
  }
  if (y_hi <= 0) y_hi = 1;
  const auto y_ticks = nice_ticks(0, y_hi * 1.05);
  const double y_top = std::max(y_ticks.back(), y_hi);
  auto x_ticks = nice_ticks(x_lo, x_hi, 6);
  // Counts (instances) get whole-number ticks: a 0.5 step would label "1.5 workers".
  if (x_integral && x_ticks.size() > 1 && x_ticks[1] - x_ticks[0] < 1) {
    x_ticks.clear();
    for (double t = std::ceil(x_lo); t <= x_hi; t += 1) x_ticks.push_back(t);
  }
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x_lo) / (x_hi - x_lo) * pw; };
  auto py = [&](double y) { return kTop + ph - y / y_top * ph; };

  // Grid and axes.
  for (double t : y_ticks) {
    out += fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" class="grid"/>)",
                       kLeft, kLeft + pw, py(t), py(t));
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="yt">{}</text>)", kLeft - 6, py(t) + 4,
                       tick_label(t));
  }
  for (double t : x_ticks) {
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xt">{}</text>)", px(t), kTop + ph + 16,
                       tick_label(t));
  }
  out += fmt::format(R"(<line x1="{0:.1f}" x2="{1:.1f}" y1="{2:.1f}" y2="{2:.1f}" class="axis"/>)",
                     kLeft, kLeft + pw, kTop + ph);
  out += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" class="axis"/>)",
                     kLeft, kTop, kTop + ph);
  out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xl">{}</text>)", kLeft + pw / 2,
                     kHeight - 6, html_escape(chart.x_label));
  out += fmt::format(
      R"svg(<text transform="translate(14 {:.1f}) rotate(-90)" class="yl">{}</text>)svg",
      kTop + ph / 2, html_escape(chart.y_label));

  for (const auto& m : chart.markers) {
    if (!std::isfinite(m.x)) continue;
    out += fmt::format(
        R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="{3}" class="mk"/>)",
        px(m.x), kTop, kTop + ph, html_escape(m.color));
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="ml" fill="{}">{}</text>)", px(m.x) + 3,
                       kTop + 10, html_escape(m.color), html_escape(m.label));
  }

  double legend_x = kLeft;
  for (const auto& s : chart.series) {
    const std::string color = html_escape(s.color);
    if (s.line) {
      std::string pts;
      for (const auto& [x, y] : s.points) {
        if (std::isfinite(x) && std::isfinite(y))
          pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
      }
      out += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{}/>)",
                         pts, color, s.dashed ? R"( stroke-dasharray="6 4")" : "");
    }
    if (s.dots) {
      for (const auto& [x, y] : s.points) {
        if (std::isfinite(x) && std::isfinite(y)) {
          out += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>)", px(x), py(y),
                             color);
        }
      }
    }
    out += fmt::format(R"(<rect x="{:.1f}" y="24" width="12" height="4" fill="{}"/>)", legend_x,
                       color);
    out += fmt::format(R"(<text x="{:.1f}" y="30" class="lg">{}</text>)", legend_x + 16,
                       html_escape(s.name));
    legend_x += 28 + 7.0 * static_cast<double>(s.name.size());
  }
  out += "</svg>";
  return out;
}

}  // namespace harness
