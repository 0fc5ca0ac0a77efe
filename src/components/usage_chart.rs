use leptos::prelude::*;
use leptos::svg::Svg;

use super::chart_export::ChartExport;
use usagelens_core::aggregate::TimeSeries;

/// Colours of the stacked series (CSS variables, so themes can change them).
const PALETTE: usize = 8;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 72.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

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
) -> impl IntoView {
    let hidden = RwSignal::new(Vec::<String>::new());
    let svg_ref = NodeRef::<Svg>::new();
    let visible = move || {
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
    };
    // One <path> per series, each bar a sub-path: redrawing 50 series x 365 days sets 50
    // attributes instead of rebuilding 18 000 elements (measured by the browser benchmark).
    // Coordinates are whole tenths of a unit, drawn under `scale(0.1)`: formatting floats was a
    // third of a filter change's time (profile of the browser benchmark), integers are cheap.
    let geometry = Memo::new(move |_| {
        let ts = visible();
        let n = ts.buckets.len().max(1) as f64;
        let max = ts.max_stack().max(1) as f64;
        let plot_w = WIDTH - LEFT - 8.0;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let slot = plot_w / n;
        let bar_w = (slot * 0.8).max(1.0);
        let bar_w10 = (bar_w * 10.0).round() as i64;
        let mut tops = vec![((TOP + plot_h) * 10.0).round() as i64; ts.buckets.len()];
        let paths: Vec<(usize, String)> = ts
            .series
            .iter()
            .map(|s| {
                let (color, _) = s.key.split_once('\u{0}').unwrap_or(("0", &s.key));
                let color: usize = color.parse().unwrap_or(0) % PALETTE;
                let mut d = String::with_capacity(s.values.len() * 24);
                for (b, v) in s.values.iter().enumerate() {
                    if *v == 0 {
                        continue;
                    }
                    let h10 = ((*v as f64 / max * plot_h * 10.0).round() as i64).max(5);
                    tops[b] -= h10;
                    let x10 =
                        ((LEFT + b as f64 * slot + (slot - bar_w) / 2.0) * 10.0).round() as i64;
                    d.push('M');
                    push_int(&mut d, x10);
                    d.push(' ');
                    push_int(&mut d, tops[b]);
                    d.push('h');
                    push_int(&mut d, bar_w10);
                    d.push('v');
                    push_int(&mut d, h10);
                    d.push_str("h-");
                    push_int(&mut d, bar_w10);
                    d.push('z');
                }
                (color, d)
            })
            .collect();
        paths
    });
    let bars = move || {
        geometry
            .get()
            .into_iter()
            .map(|(color, d)| view! { <path d=d class=format!("ul-series-{color}") /> })
            .collect_view()
    };
    // The bucket under the pointer (or keyboard focus), read out as a tooltip listing its values.
    let hover = RwSignal::new(None::<usize>);
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(svg) = svg_ref.get_untracked() else {
            return;
        };
        let rect = svg.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * WIDTH;
        let n = series.with_untracked(|ts| ts.buckets.len());
        let slot = (WIDTH - LEFT - 8.0) / n.max(1) as f64;
        let b = ((x - LEFT) / slot).floor();
        hover.set((b >= 0.0 && (b as usize) < n).then_some(b as usize));
    };
    let readout = move || {
        let b = hover.get()?;
        let ts = visible();
        let start = *ts.buckets.get(b)?;
        let n = ts.buckets.len().max(1) as f64;
        let slot = (WIDTH - LEFT - 8.0) / n;
        let x = LEFT + b as f64 * slot;
        let mut lines: Vec<(u64, String)> = ts
            .series
            .iter()
            .filter(|s| s.values[b] > 0)
            .map(|s| {
                let key = s.key.split_once('\u{0}').map_or(s.key.as_str(), |(_, k)| k);
                (s.values[b], format!("{key}: {}", format.run(s.values[b])))
            })
            .collect();
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        let more = lines.len().saturating_sub(8);
        let mut text: Vec<String> = lines.into_iter().take(8).map(|(_, t)| t).collect();
        if more > 0 {
            text.push(format!("and {more} more"));
        }
        text.insert(0, format_bucket.run(start));
        let box_w = 230.0;
        let box_x = if x + box_w + 12.0 > WIDTH {
            x - box_w - 4.0
        } else {
            x + slot + 4.0
        };
        let box_h = 16.0 * text.len() as f64 + 8.0;
        Some(view! {
            <g class="ul-readout" aria-hidden="true" pointer-events="none">
                <rect class="ul-readout-column" x=format!("{x:.1}") y=TOP width=format!("{:.1}", slot.max(1.0)) height=HEIGHT - TOP - BOTTOM />
                <rect class="ul-readout-box" x=format!("{box_x:.1}") y=TOP width=box_w height=format!("{box_h:.1}") rx="4" />
                {text.into_iter().enumerate().map(|(i, t)| view! {
                    <text x=format!("{:.1}", box_x + 8.0) y=format!("{:.1}", TOP + 16.0 * (i as f64 + 1.0)) class=if i == 0 { "ul-readout-title" } else { "" }>{t}</text>
                }).collect_view()}
            </g>
        })
    };
    let axis = move || {
        let ts = series.get();
        let max = visible().max_stack();
        let plot_h = HEIGHT - TOP - BOTTOM;
        let ticks = (0..=4).map(|i| {
            let v = max as f64 * i as f64 / 4.0;
            let y = TOP + plot_h - plot_h * i as f64 / 4.0;
            view! {
                <g class="ul-tick">
                    <line x1=LEFT x2=WIDTH - 8.0 y1=format!("{y:.1}") y2=format!("{y:.1}") />
                    <text x=LEFT - 6.0 y=format!("{:.1}", y + 4.0) text-anchor="end">{format.run(v.round() as u64)}</text>
                </g>
            }
        }).collect_view();
        let n = ts.buckets.len();
        let slot = (WIDTH - LEFT - 8.0) / n.max(1) as f64;
        let every = n.div_ceil(8).max(1);
        let labels = ts.buckets.iter().enumerate().filter(|(i, _)| i % every == 0).map(|(i, b)| {
            let x = LEFT + i as f64 * slot + slot / 2.0;
            view! { <text class="ul-xlabel" x=format!("{x:.1}") y=HEIGHT - 8.0 text-anchor="middle">{format_bucket.run(*b)}</text> }
        }).collect_view();
        (ticks, labels)
    };
    let markers = move || {
        let ts = series.get();
        let (Some(first), Some(last)) = (ts.buckets.first().copied(), ts.buckets.last().copied())
        else {
            return Vec::new();
        };
        let n = ts.buckets.len();
        let slot = (WIDTH - LEFT - 8.0) / n.max(1) as f64;
        let span = (last - first).max(1) as f64;
        events
            .get()
            .into_iter()
            .filter(|(t, _)| *t >= first && *t <= last + 86_400 * 31)
            .map(|(t, label)| {
                let x = if n == 1 { LEFT + slot / 2.0 } else { LEFT + slot / 2.0 + (t - first) as f64 / span * (slot * (n - 1) as f64) };
                let x = x.min(WIDTH - 10.0);
                view! {
                    <g class="ul-event">
                        <line x1=format!("{x:.1}") x2=format!("{x:.1}") y1=TOP y2=HEIGHT - BOTTOM />
                        <circle cx=format!("{x:.1}") cy=TOP + 4.0 r="4"><title>{label}</title></circle>
                    </g>
                }
            })
            .collect()
    };
    view! {
        <figure class="ul-chart" data-testid="chart">
            <svg
                node_ref=svg_ref
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=move || title.get()
                xmlns="http://www.w3.org/2000/svg"
            >
                {move || axis()}
                <g class="ul-bars" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                    <rect class="ul-hit" x=LEFT y=TOP width=WIDTH - LEFT - 8.0 height=HEIGHT - TOP - BOTTOM fill="transparent" />
                    <g transform="scale(0.1)">{bars}</g>
                </g>
                {markers}
                {readout}
            </svg>
            <figcaption class="ul-legend">
                {move || series.get().series.iter().enumerate().map(|(i, s)| {
                    let key = s.key.clone();
                    let key_for_click = key.clone();
                    let pressed = move || !hidden.with(|h| h.contains(&key));
                    view! {
                        <button type="button" class="ul-legend-item" aria-pressed=move || pressed().to_string()
                            on:click=move |_| hidden.update(|h| {
                                if let Some(p) = h.iter().position(|k| *k == key_for_click) { h.remove(p); } else { h.push(key_for_click.clone()); }
                            })>
                            <span class=format!("ul-swatch ul-series-{}", i % PALETTE) aria-hidden="true"></span>
                            {s.key.clone()}
                            <span class="ul-legend-total">{format.run(s.total)}</span>
                        </button>
                    }
                }).collect_view()}
            </figcaption>
            <ChartExport svg=svg_ref />
        </figure>
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
