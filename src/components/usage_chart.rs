use leptos::prelude::*;
use leptos::svg::Svg;

use super::chart_export::ChartExport;
use usagelens_core::aggregate::TimeSeries;
use usagelens_core::sorting::sort_by_shared;
use usagelens_core::Granularity;

/// Colours of the stacked series (CSS variables, so themes can change them).
const PALETTE: usize = 8;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 72.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;
/// The plot's width: the chart less the axis labels on the left and a margin on the right.
const PLOT_WIDTH: f64 = WIDTH - LEFT - 8.0;
/// One lane of the period-totals band under the axis.
const LANE: f64 = 18.0;
/// Most lanes the band stacks overlapping periods into (later ones share the last lane).
const MAX_LANES: usize = 6;
/// Most period spans drawn (a fleet of billing cycles at day interval could have thousands).
const MAX_PERIODS: usize = 300;
/// Pointer travel (chart units) that makes a press a brush rather than a click.
const BRUSH_MIN: f64 = 4.0;

/// A stacked bar chart of a [`TimeSeries`], drawn as SVG.
///
/// Written here rather than with a charting crate because it needs stacking, per-bar tooltips,
/// legend toggles and event markers together, and stays one small component whose inputs are
/// plain data, so the renderer can be swapped without touching the dashboard.
/// At most one bar per bucket is drawn and the caller downsamples to the pixel width first.
#[component]
pub fn UsageChart(
    #[prop(into)] series: Signal<TimeSeries>,
    /// Formats a quantity for the axis and tooltips.
    #[prop(into)]
    format: Callback<u64, String>,
    /// Formats a bucket start for the x axis.
    #[prop(into)]
    format_bucket: Callback<i64, String>,
    /// (time, label) markers drawn over the bars.
    #[prop(into)]
    events: Signal<Vec<(i64, String)>>,
    #[prop(into)] title: Signal<String>,
    /// Describes a bucket `(start, end, None)` or a long period `(start, end, Some(granularity))`
    /// for the tooltip and the period band.
    #[prop(into)]
    format_span: Callback<(i64, i64, Option<Granularity>), String>,
    /// Brush-to-zoom: called with the start of the first and the end of the last bucket dragged
    /// over. Without it the chart has no brush (the portal's period is chosen by its own control).
    #[prop(optional, into)]
    on_zoom: Option<Callback<(i64, i64)>>,
) -> impl IntoView {
    let hidden = RwSignal::new(Vec::<String>::new());
    let svg_ref = NodeRef::<Svg>::new();
    // The series left after legend toggles, computed once per change for the geometry, the
    // axis and the read-out.
    let visible = Memo::new(move |_| {
        let ts = series.get();
        let hidden = hidden.get();
        TimeSeries {
            series: ts
                .series
                .into_iter()
                .enumerate()
                .filter(|(_, s)| !hidden.contains(&s.key))
                .map(|(i, mut s)| {
                    // Keep each series' colour when others are hidden.
                    s.key = format!("{i}\u{0}{}", s.key);
                    s
                })
                .collect(),
            ..ts
        }
    });
    // One <path> per series, each bar a sub-path: redrawing 50 series x 365 days sets 50
    // attributes instead of rebuilding 18 000 elements (measured by the browser benchmark).
    // Coordinates are whole tenths of a unit, drawn under `scale(0.1)`: formatting floats was a
    // third of a filter change's time (profile of the browser benchmark), integers are cheap.
    let geometry = Memo::new(move |_| {
        visible.with(|ts| {
            let n = ts.buckets.len().max(1) as f64;
            let max = ts.max_stack().max(1) as f64;
            let plot_h = HEIGHT - TOP - BOTTOM;
            let slot = PLOT_WIDTH / n;
            let bar_w = (slot * 0.8).max(1.0);
            let mut tops = vec![((TOP + plot_h) * 10.0).round() as i64; ts.buckets.len()];
            let paths: Vec<(usize, String)> = ts
                .series
                .iter()
                .map(|s| {
                    let (color, _) = s.key.split_once('\u{0}').unwrap_or(("0", &s.key));
                    let color: usize = color.parse().unwrap_or(0) % PALETTE;
                    // Each bar is one vertical stroke (`M x top v height`), as wide as the bar: a
                    // third of the text of a filled rectangle to build, hand over and parse.
                    let mut d = String::with_capacity(s.values.len() * 14);
                    for (b, v) in s.values.iter().enumerate() {
                        if *v == 0 {
                            continue;
                        }
                        let h10 = ((*v as f64 / max * plot_h * 10.0).round() as i64).max(5);
                        tops[b] -= h10;
                        let x10 = ((LEFT + b as f64 * slot + slot / 2.0) * 10.0).round() as i64;
                        d.push('M');
                        push_int(&mut d, x10);
                        d.push(' ');
                        push_int(&mut d, tops[b]);
                        d.push('v');
                        push_int(&mut d, h10);
                    }
                    (color, d)
                })
                .collect();
            (bar_w * 10.0, paths)
        })
    });
    // The <path> elements stay and only their attributes change: creating 50 new elements (and
    // laying them out) on every filter change cost more than drawing them (trace of the browser
    // benchmark).
    let path_count = Memo::new(move |_| geometry.with(|g| g.1.len()));
    let stroke_width = Memo::new(move |_| format!("{:.0}", geometry.with(|g| g.0)));
    let series_count = Memo::new(move |_| series.with(|ts| ts.series.len()));
    let bars = move || {
        view! {
            <For each=move || 0..path_count.get() key=|i| *i let:i>
                {
                    let path = Memo::new(move |_| {
                        geometry.with(|g| g.1.get(i).cloned()).unwrap_or_default()
                    });
                    // One memo per path, so the geometry has one subscriber per path: the
                    // reactive graph re-subscribes every reader on each change, at a cost that
                    // grows with the square of a source's readers (profile: a tenth of a redraw).
                    view! {
                        <path
                            d=move || path.with(|p| p.1.clone())
                            class=move || format!("ul-series-{}", path.with(|p| p.0))
                            stroke-width=stroke_width
                        />
                    }
                }
            </For>
        }
    };
    // The bucket under the pointer: a crosshair over the plot and a tooltip listing every
    // series at that time with their total.
    let hover = RwSignal::new(None::<usize>);
    // Brush-to-zoom: (pointer x where the press began, where it is now), in chart units.
    let brush = RwSignal::new(None::<(f64, f64)>);
    let chart_x = move |ev: &web_sys::MouseEvent| -> Option<f64> {
        let svg = svg_ref.get_untracked()?;
        let rect = svg.get_bounding_client_rect();
        (rect.width() > 0.0)
            .then(|| (f64::from(ev.client_x()) - rect.left()) / rect.width() * WIDTH)
    };
    let bucket_at = move |x: f64| -> Option<usize> {
        let n = series.with_untracked(|ts| ts.buckets.len());
        let slot = PLOT_WIDTH / n.max(1) as f64;
        let b = ((x - LEFT) / slot).floor();
        (b >= 0.0 && (b as usize) < n).then_some(b as usize)
    };
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(x) = chart_x(&ev) else {
            return;
        };
        hover.set(bucket_at(x));
        if brush.get_untracked().is_some() {
            brush.update(|b| {
                if let Some(b) = b {
                    b.1 = x.clamp(LEFT, LEFT + PLOT_WIDTH);
                }
            });
        }
    };
    let on_down = move |ev: web_sys::MouseEvent| {
        if ev.button() != 0 || on_zoom.is_none() {
            return;
        }
        if let Some(x) = chart_x(&ev) {
            ev.prevent_default();
            brush.set(Some((x, x)));
        }
    };
    let on_up = move |_: web_sys::MouseEvent| {
        let Some((a, b)) = brush.get_untracked() else {
            return;
        };
        brush.set(None);
        if (a - b).abs() < BRUSH_MIN {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (Some(first), Some(last)) = (
            bucket_at(lo.max(LEFT)),
            bucket_at(hi.min(LEFT + PLOT_WIDTH - 0.01)),
        ) else {
            return;
        };
        let range =
            series.with_untracked(|ts| Some((*ts.buckets.get(first)?, *ts.ends.get(last)?)));
        if let (Some(range), Some(on_zoom)) = (range, on_zoom) {
            hover.set(None);
            on_zoom.run(range);
        }
    };
    let brush_rect = move || {
        let (a, b) = brush.get()?;
        ((a - b).abs() >= BRUSH_MIN).then(|| {
            let (lo, hi) = (a.min(b).max(LEFT), a.max(b).min(LEFT + PLOT_WIDTH));
            view! {
                <rect
                    class="ul-brush"
                    data-testid="chart-brush"
                    x=format!("{lo:.1}")
                    y=TOP
                    width=format!("{:.1}", (hi - lo).max(0.0))
                    height=HEIGHT - TOP - BOTTOM
                />
            }
        })
    };
    let crosshair = move || {
        let b = hover.get()?;
        if brush.with(|b| b.is_some_and(|(a, c)| (a - c).abs() >= BRUSH_MIN)) {
            return None;
        }
        let n = series.with(|ts| ts.buckets.len()).max(1) as f64;
        let slot = PLOT_WIDTH / n;
        let x = LEFT + b as f64 * slot;
        let mid = x + slot / 2.0;
        Some(view! {
            <g class="ul-readout" aria-hidden="true" pointer-events="none">
                <rect
                    class="ul-readout-column"
                    x=format!("{x:.1}")
                    y=TOP
                    width=format!("{:.1}", slot.max(1.0))
                    height=HEIGHT - TOP - BOTTOM
                />
                <line
                    class="ul-crosshair"
                    x1=format!("{mid:.1}")
                    x2=format!("{mid:.1}")
                    y1=TOP
                    y2=HEIGHT - BOTTOM
                />
            </g>
        })
    };
    // The tooltip is HTML over the figure (as tall as the series list needs), placed with
    // `style:left` (a CSSOM property, which a strict CSP allows; a `style` attribute it would not).
    let tooltip = move || {
        let b = hover.get()?;
        if brush.with(|b| b.is_some()) {
            return None;
        }
        let (left_pct, flip, title, lines, total, periods) = visible.with(|ts| {
            let start = *ts.buckets.get(b)?;
            let end = ts.ends.get(b).copied().unwrap_or(start);
            let n = ts.buckets.len().max(1) as f64;
            let centre = LEFT + (b as f64 + 0.5) * PLOT_WIDTH / n;
            let mut lines: Vec<(u64, usize, String)> = ts
                .series
                .iter()
                .filter(|s| s.values[b] > 0)
                .map(|s| {
                    let (color, key) = s.key.split_once('\u{0}').unwrap_or(("0", &s.key));
                    let color: usize = color.parse().unwrap_or(0) % PALETTE;
                    (s.values[b], color, key.to_owned())
                })
                .collect();
            sort_by_shared(&mut lines, |a, b| b.0.cmp(&a.0));
            let total = lines.iter().map(|l| l.0).fold(0u64, u64::saturating_add);
            let periods: Vec<String> = ts
                .periods
                .iter()
                .filter(|p| p.first_bucket <= b && b <= p.last_bucket)
                .map(|p| {
                    format!(
                        "{} {}: {}",
                        period_label(p.granularity),
                        format_span.run((p.start, p.end, Some(p.granularity))),
                        format.run(p.total)
                    )
                })
                .collect();
            Some((
                centre / WIDTH * 100.0,
                centre > WIDTH * 0.6,
                format_span.run((start, end, None)),
                lines,
                total,
                periods,
            ))
        })?;
        let wide = lines.len() > 12;
        Some(view! {
            <div
                class="ul-tooltip"
                class:ul-tooltip-flip=flip
                class:ul-tooltip-wide=wide
                data-testid="chart-tooltip"
                role="status"
                style:left=format!("{left_pct:.2}%")
            >
                <div class="ul-tooltip-title">{title}</div>
                <ul>
                    {lines
                        .into_iter()
                        .map(|(v, color, key)| {
                            view! {
                                <li>
                                    <span
                                        class=format!("ul-swatch ul-series-{color}")
                                        aria-hidden="true"
                                    ></span>
                                    {key}
                                    <span class="ul-tooltip-value">{format.run(v)}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <div class="ul-tooltip-total">
                    "Total"<span class="ul-tooltip-value">{format.run(total)}</span>
                </div>
                {(!periods.is_empty())
                    .then(|| {
                        view! {
                            <ul class="ul-tooltip-periods">
                                {periods.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                        }
                    })}
            </div>
        })
    };
    // Totals of months and cycles at a finer interval: spans over their period in a band under
    // the axis, one lane per overlap. Never bars: a month's total drawn as a day's bar would
    // dwarf the real days beside it (a 3 GiB "day" next to 30 MiB ones), and spreading it evenly
    // would draw a daily shape no carrier reported.
    let band = Memo::new(move |_| {
        series.with(|ts| {
            let n = ts.buckets.len().max(1) as f64;
            let slot = PLOT_WIDTH / n;
            let mut lane_ends: Vec<usize> = Vec::new();
            let spans: Vec<PeriodSpan> = ts
                .periods
                .iter()
                .take(MAX_PERIODS)
                .map(|p| {
                    let lane = lane_ends
                        .iter()
                        .position(|end| *end < p.first_bucket)
                        .unwrap_or_else(|| {
                            if lane_ends.len() < MAX_LANES {
                                lane_ends.push(0);
                            }
                            lane_ends.len() - 1
                        });
                    lane_ends[lane] = p.last_bucket;
                    let x = LEFT + p.first_bucket as f64 * slot + 1.0;
                    let width = ((p.last_bucket + 1 - p.first_bucket) as f64 * slot - 2.0).max(2.0);
                    let what = format!("{} {}", period_label(p.granularity), format.run(p.total));
                    let title = format!(
                        "{} {}: {}",
                        period_label(p.granularity),
                        format_span.run((p.start, p.end, Some(p.granularity))),
                        p.parts
                            .iter()
                            .map(|(k, q)| format!("{k} {}", format.run(*q)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    PeriodSpan {
                        x,
                        width,
                        lane,
                        // Only a label that fits (about 6 units a character at 11 px).
                        text: (width > what.len() as f64 * 6.0).then_some(what),
                        title,
                        granularity: p.granularity,
                        total: p.total,
                    }
                })
                .collect();
            (lane_ends.len(), spans)
        })
    });
    let band_height = move || {
        band.with(|b| {
            if b.0 == 0 {
                0.0
            } else {
                b.0 as f64 * LANE + 6.0
            }
        })
    };
    let band_view = move || {
        band.with(|(_, spans)| {
            spans
                .iter()
                .map(|p| {
                    let y = HEIGHT + 2.0 + p.lane as f64 * LANE;
                    view! {
                        <g
                            class=format!("ul-period ul-period-{}", p.granularity.as_str())
                            data-granularity=p.granularity.as_str()
                            data-total=p.total.to_string()
                            data-testid="chart-period"
                        >
                            <rect
                                x=format!("{:.1}", p.x)
                                y=format!("{y:.1}")
                                width=format!("{:.1}", p.width)
                                height=LANE - 3.0
                                rx="3"
                            />
                            {p
                                .text
                                .clone()
                                .map(|t| {
                                    view! {
                                        <text
                                            x=format!("{:.1}", p.x + 4.0)
                                            y=format!("{:.1}", y + 11.5)
                                        >
                                            {t}
                                        </text>
                                    }
                                })}
                            <title>{p.title.clone()}</title>
                        </g>
                    }
                })
                .collect_view()
        })
    };
    // Tick and date labels as data; the <text> elements below stay and only their text and
    // position change (new SVG text elements are costly to lay out).
    let axis_model = Memo::new(move |_| {
        let max = visible.with(|ts| ts.max_stack());
        let plot_h = HEIGHT - TOP - BOTTOM;
        // (line y, label y, label) per tick.
        let ticks: Vec<(String, String, String)> = (0..=4)
            .map(|i| {
                let v = max as f64 * i as f64 / 4.0;
                let y = TOP + plot_h - plot_h * i as f64 / 4.0;
                (
                    format!("{y:.1}"),
                    format!("{:.1}", y + 4.0),
                    format.run(v.round() as u64),
                )
            })
            .collect();
        let labels: Vec<(String, String)> = series.with(|ts| {
            let n = ts.buckets.len();
            let slot = PLOT_WIDTH / n.max(1) as f64;
            let every = n.div_ceil(8).max(1);
            ts.buckets
                .iter()
                .enumerate()
                .filter(|(i, _)| i % every == 0)
                .map(|(i, b)| {
                    let x = LEFT + i as f64 * slot + slot / 2.0;
                    (format!("{x:.1}"), format_bucket.run(*b))
                })
                .collect()
        });
        (ticks, labels)
    });
    let label_count = Memo::new(move |_| axis_model.with(|a| a.1.len()));
    let axis = move || {
        view! {
            <For each=|| 0..5usize key=|i| *i let:i>
                {
                    let tick = Memo::new(move |_| {
                        axis_model.with(|a| a.0.get(i).cloned()).unwrap_or_default()
                    });
                    let y = move || tick.with(|t| t.0.clone());
                    let text_y = move || tick.with(|t| t.1.clone());
                    view! {
                        <g class="ul-tick">
                            <line x1=LEFT x2=WIDTH - 8.0 y1=y y2=y />
                            <text x=LEFT - 6.0 y=text_y text-anchor="end">
                                {move || tick.with(|t| t.2.clone())}
                            </text>
                        </g>
                    }
                }
            </For>
            <For each=move || 0..label_count.get() key=|i| *i let:i>
                {
                    let label = Memo::new(move |_| {
                        axis_model.with(|a| a.1.get(i).cloned()).unwrap_or_default()
                    });
                    view! {
                        <text
                            class="ul-xlabel"
                            x=move || label.with(|l| l.0.clone())
                            y=HEIGHT - 8.0
                            text-anchor="middle"
                        >
                            {move || label.with(|l| l.1.clone())}
                        </text>
                    }
                }
            </For>
        }
    };
    let markers = move || {
        let (first, last, n) = series.with(|ts| {
            (
                ts.buckets.first().copied(),
                ts.buckets.last().copied(),
                ts.buckets.len(),
            )
        });
        let (Some(first), Some(last)) = (first, last) else {
            return Vec::new();
        };
        let slot = PLOT_WIDTH / n.max(1) as f64;
        let span = (last - first).max(1) as f64;
        events
            .get()
            .into_iter()
            .filter(|(t, _)| *t >= first && *t <= last + 86_400 * 31)
            .map(|(t, label)| {
                let x = if n == 1 {
                    LEFT + slot / 2.0
                } else {
                    LEFT + slot / 2.0 + (t - first) as f64 / span * (slot * (n - 1) as f64)
                };
                let x = x.min(WIDTH - 10.0);
                view! {
                    <g class="ul-event">
                        <line x1=format!("{x:.1}") x2=format!("{x:.1}") y1=TOP y2=HEIGHT - BOTTOM />
                        <circle cx=format!("{x:.1}") cy=TOP + 4.0 r="4">
                            <title>{label}</title>
                        </circle>
                    </g>
                }
            })
            .collect()
    };
    let max_stack = Memo::new(move |_| visible.with(|ts| ts.max_stack()));
    view! {
        <figure
            class="ul-chart"
            data-testid="chart"
            data-interval=move || series.with(|ts| ts.bucket.as_str())
        >
            <svg
                node_ref=svg_ref
                viewBox=move || format!("0 0 {WIDTH} {}", HEIGHT + band_height())
                role="img"
                aria-label=move || title.get()
                xmlns="http://www.w3.org/2000/svg"
            >
                {axis}
                <g
                    class="ul-bars"
                    data-max=move || max_stack.get().to_string()
                    on:mousemove=on_move
                    on:mouseleave=move |_| {
                        hover.set(None);
                        brush.set(None);
                    }
                    on:mousedown=on_down
                    on:mouseup=on_up
                >
                    <rect
                        class="ul-hit"
                        x=LEFT
                        y=TOP
                        width=PLOT_WIDTH
                        height=HEIGHT - TOP - BOTTOM
                        fill="transparent"
                    />
                    <g transform="scale(0.1)">{bars}</g>
                    {crosshair}
                    {brush_rect}
                </g>
                {markers}
                <g class="ul-periods">{band_view}</g>
            </svg>
            {tooltip}
            <figcaption class="ul-legend">
                // One button per position, kept across changes: a filter change rewrites labels
                // and totals in place instead of rebuilding (or reordering) every button.
                <For each=move || 0..series_count.get() key=|i| *i let:i>
                    {
                        let item = Memo::new(move |_| {
                            series
                                .with(|ts| {
                                    ts.series.get(i).map(|s| (s.key.clone(), format.run(s.total)))
                                })
                                .unwrap_or_default()
                        });
                        let key_at = move || item.with(|(k, _)| k.clone());
                        let total = move || item.with(|(_, t)| t.clone());
                        let pressed = move || {
                            item.with(|(key, _)| !hidden.with(|h| h.contains(key)))
                        };
                        // (key, formatted total) at this position; one subscriber of `series` per button.
                        view! {
                            <button
                                type="button"
                                class="ul-legend-item"
                                aria-pressed=move || pressed().to_string()
                                on:click=move |_| {
                                    let key = item.with_untracked(|(k, _)| k.clone());
                                    hidden
                                        .update(|h| {
                                            if let Some(p) = h.iter().position(|k| *k == key) {
                                                h.remove(p);
                                            } else {
                                                h.push(key);
                                            }
                                        })
                                }
                            >
                                <span
                                    class=format!("ul-swatch ul-series-{}", i % PALETTE)
                                    aria-hidden="true"
                                ></span>
                                {key_at}
                                <span class="ul-legend-total">{total}</span>
                            </button>
                        }
                    }
                </For>
            </figcaption>
            <ChartExport svg=svg_ref />
        </figure>
    }
}

/// One long period's span in the band under the axis.
#[derive(Clone, PartialEq)]
struct PeriodSpan {
    x: f64,
    width: f64,
    lane: usize,
    text: Option<String>,
    title: String,
    granularity: Granularity,
    total: u64,
}

/// What a long period's total is called in the band and the tooltip.
fn period_label(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Cycle => "cycle total",
        _ => "monthly total",
    }
}

/// Appends `n` in decimal (the chart writes tens of thousands of these per redraw).
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn push_int_writes_decimal() {
        for n in [0i64, 7, -7, 10, 1234567, i64::MIN, i64::MAX] {
            let mut s = String::from("x");
            super::push_int(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }
}
