use leptos::prelude::*;
use usagelens_core::portal::Gauge;
use usagelens_core::units::{format_bytes, format_count, format_duration, ByteBase};
use usagelens_core::Service;

/// A quantity of `service` as people read it.
pub fn format_service(service: Service, quantity: u64, base: ByteBase) -> String {
    match service {
        Service::Data => format_bytes(quantity, base),
        Service::Voice => format_duration(quantity),
        Service::Sms | Service::Mms => format_count(quantity),
    }
}

/// The gauge's words: what was used (of what), and where the period is heading.
pub fn gauge_text(gauge: &Gauge, base: ByteBase, period_end: &str) -> (String, Option<String>) {
    let f = |q: u64| format_service(gauge.service, q, base);
    let used = match gauge.allowance {
        Some(a) => format!("{} of {}", f(gauge.used), f(a)),
        None => format!("{} used", f(gauge.used)),
    };
    let projection = gauge.projected.map(|p| match gauge.allowance {
        Some(a) if p > a => format!(
            "At this pace: {} by {period_end}, {} over the allowance",
            f(p),
            f(p - a)
        ),
        Some(_) => format!(
            "At this pace: {} by {period_end}, within the allowance",
            f(p)
        ),
        None => format!("At this pace: {} by {period_end}", f(p)),
    });
    (used, projection)
}

fn service_name(service: Service) -> &'static str {
    match service {
        Service::Data => "Data",
        Service::Voice => "Calls",
        Service::Sms => "Text messages",
        Service::Mms => "Picture messages",
    }
}

/// Used against the allowance for one service, with the projection to the period's end
/// drawn as a lighter bar behind the used part. Without an allowance: the amount used and the
/// projection in words.
#[component]
pub fn UsageGauge(
    gauge: Gauge,
    #[prop(into)] base: Signal<ByteBase>,
    /// The period's last day as the customer reads it ("30 Nov").
    #[prop(into)]
    period_end: Signal<String>,
) -> impl IntoView {
    let name = match &gauge.zone {
        Some(zone) => format!("{} · {zone}", service_name(gauge.service)),
        None => service_name(gauge.service).to_owned(),
    };
    let fraction = gauge.fraction();
    let over = fraction.is_some_and(|f| f > 1.0);
    let heading_over = gauge.heading_over();
    let percent = fraction.map(|f| (f * 100.0).round() as u64);
    let projected_share = match (gauge.projected, gauge.allowance) {
        (Some(p), Some(a)) if a > 0 => Some((p as f64 / a as f64).min(1.0)),
        _ => None,
    };
    let text = {
        let gauge = gauge.clone();
        move || gauge_text(&gauge, base.get(), &period_end.get())
    };
    let used_text = {
        let text = text.clone();
        move || text().0
    };
    let projection_text = move || text().1;
    let testid = format!("gauge-{}", gauge.service.as_str());
    view! {
        <li
            class="ul-gauge"
            class:ul-gauge-over=over
            class:ul-gauge-heading-over=heading_over
            data-testid=testid
            data-used=gauge.used.to_string()
            data-allowance=gauge.allowance.map(|a| a.to_string()).unwrap_or_default()
            data-projected=gauge.projected.map(|p| p.to_string()).unwrap_or_default()
        >
            <div class="ul-gauge-head">
                <span class="ul-gauge-name">{name.clone()}</span>
                <span class="ul-gauge-used">{used_text.clone()}</span>
                {percent.map(|p| view! { <span class="ul-gauge-pct">{format!("{p}%")}</span> })}
            </div>
            {fraction
                .map(|f| {
                    let label = format!("{name} used");
                    view! {
                        <div
                            class="ul-gauge-track"
                            role="meter"
                            aria-label=label
                            aria-valuemin="0"
                            aria-valuemax="100"
                            aria-valuenow=(f * 100.0).round().min(100.0).to_string()
                            aria-valuetext=used_text.clone()
                        >
                            {projected_share
                                .map(|p| {
                                    view! {
                                        <span
                                            class="ul-gauge-projected"
                                            style:width=format!("{:.1}%", p * 100.0)
                                        ></span>
                                    }
                                })}
                            <span
                                class="ul-gauge-fill"
                                style:width=format!("{:.1}%", f.min(1.0) * 100.0)
                            ></span>
                        </div>
                    }
                })}
            {move || projection_text().map(|p| view! { <p class="ul-gauge-projection">{p}</p> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge(used: u64, allowance: Option<u64>, projected: Option<u64>) -> Gauge {
        Gauge {
            service: Service::Data,
            zone: None,
            used,
            allowance,
            from_carrier: false,
            projected,
        }
    }

    #[test]
    fn words_say_used_of_allowance_and_the_pace() {
        let gib = 1u64 << 30;
        let (used, pace) = gauge_text(
            &gauge(gib, Some(4 * gib), Some(2 * gib)),
            ByteBase::Binary,
            "30 Nov",
        );
        assert_eq!(used, "1.00 GiB of 4.00 GiB");
        assert_eq!(
            pace.unwrap(),
            "At this pace: 2.00 GiB by 30 Nov, within the allowance"
        );
        let (_, pace) = gauge_text(
            &gauge(3 * gib, Some(4 * gib), Some(6 * gib)),
            ByteBase::Binary,
            "30 Nov",
        );
        assert_eq!(
            pace.unwrap(),
            "At this pace: 6.00 GiB by 30 Nov, 2.00 GiB over the allowance"
        );
        let (used, pace) = gauge_text(&gauge(gib, None, None), ByteBase::Binary, "30 Nov");
        assert_eq!((used.as_str(), pace), ("1.00 GiB used", None));
    }
}
