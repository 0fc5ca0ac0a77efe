//! The self-service portal's logic (`mountUsageViewer` with `mode: 'portal'`): billing
//! periods, what to ask a carrier for one SIM over a period, the per-SIM summary a customer
//! reads (use against allowances with the projection to the period's end, roaming share and
//! where they roamed), and fetch errors in the customer's words.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::aggregate::{totals, Filter};
use crate::carriers::UsageRequest;
use crate::fetch::{FetchError, FetchErrorKind, UsageQuery};
use crate::model::{Carrier, Granularity, Service, Subject, UsageSet};

/// A billing period: Unix seconds, half-open `[start, end)`, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// Unix seconds, inclusive.
    pub start: i64,
    /// Unix seconds, exclusive.
    pub end: i64,
}

impl Period {
    /// The first and the last day as `YYYY-MM-DD`.
    #[must_use]
    pub fn days(&self) -> (String, String) {
        (day_text(self.start), day_text(self.end - 1))
    }

    /// Whether `t` (Unix seconds) lies in `[start, end)`.
    #[must_use]
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

fn day_text(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp())
}

/// The day `billing_day` (1 to 28) of the month `months` after the month of `d`.
fn cycle_day(d: NaiveDate, months: i32, billing_day: u32) -> Option<NaiveDate> {
    let index = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(
        index.div_euclid(12),
        index.rem_euclid(12) as u32 + 1,
        billing_day,
    )
}

/// The highest billing day accepted: every month has it.
pub const MAX_BILLING_DAY: u32 = 28;

/// The billing period holding `now`, for periods starting on day `billing_day` of each month
/// (clamped to 1..=28).
#[must_use]
pub fn billing_period(now: i64, billing_day: u32) -> Period {
    let day = billing_day.clamp(1, MAX_BILLING_DAY);
    let today = chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .date_naive();
    let back = if today.day() >= day { 0 } else { -1 };
    let start = cycle_day(today, back, day).unwrap_or(today);
    let end = cycle_day(start, 1, day).unwrap_or(start);
    Period {
        start: day_start(start),
        end: day_start(end),
    }
}

/// Which period the customer looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodChoice {
    /// The billing period under way.
    This,
    /// The billing period before the one under way.
    Last,
    /// First and last day (Unix seconds at 00:00 UTC), both included.
    Custom {
        /// 00:00 UTC of the first day, in Unix seconds.
        first_day: i64,
        /// 00:00 UTC of the last day, in Unix seconds.
        last_day: i64,
    },
}

impl PeriodChoice {
    /// The period as times. A custom period must not end before it starts nor start in the
    /// future.
    pub fn resolve(&self, now: i64, billing_day: u32) -> Result<Period, String> {
        let this = billing_period(now, billing_day);
        match *self {
            PeriodChoice::This => Ok(this),
            PeriodChoice::Last => Ok(billing_period(this.start - 1, billing_day)),
            PeriodChoice::Custom {
                first_day,
                last_day,
            } => {
                if last_day < first_day {
                    Err("The last day is before the first day.".to_owned())
                } else if first_day > now {
                    Err("The first day is in the future.".to_owned())
                } else {
                    Ok(Period {
                        start: first_day,
                        end: last_day + 86_400,
                    })
                }
            }
        }
    }
}

/// What to ask `carrier` for `subject`'s usage over `period`. `current` says the period is the
/// one under way: Control Center is then asked for its current cycle (its own cycle dates,
/// which need not match the portal's billing day), otherwise for the cycle starting on the
/// period's first day.
pub fn period_query(
    subject: &Subject,
    carrier: Carrier,
    period: Period,
    now: i64,
    current: bool,
) -> Result<UsageQuery, String> {
    // Nothing after now exists yet: ThingSpace is asked up to now, TelecomX up to this month.
    let last = (period.end - 1).min(now.max(period.start));
    carrier.spec().query(&UsageRequest {
        subject: Some(subject.clone()),
        period: Some((period.start, last)),
        current,
        ..UsageRequest::default()
    })
}

/// Allowances the host knows from the customer's plan, for carriers that do not report them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanAllowances {
    /// Bytes.
    pub data: Option<u64>,
    /// Seconds.
    pub voice: Option<u64>,
    /// Messages.
    pub sms: Option<u64>,
    /// Messages.
    pub mms: Option<u64>,
}

impl PlanAllowances {
    /// The allowance of one service, in its unit; `None` when the plan gives none.
    #[must_use]
    pub fn of(&self, service: Service) -> Option<u64> {
        match service {
            Service::Data => self.data,
            Service::Voice => self.voice,
            Service::Sms => self.sms,
            Service::Mms => self.mms,
        }
    }
}

/// One gauge: how much of a service was used, against which allowance, and where it is heading.
#[derive(Clone, Debug, PartialEq)]
pub struct Gauge {
    /// The service measured.
    pub service: Service,
    /// The zone the carrier's allowance covers (TelecomX: the home country), if any.
    pub zone: Option<String>,
    /// Quantity used, in the service's unit.
    pub used: u64,
    /// The allowance, in the service's unit; `None` when neither the carrier nor the plan gives
    /// one.
    pub allowance: Option<u64>,
    /// The allowance comes from the carrier's records (true) or from the host's plan (false).
    pub from_carrier: bool,
    /// Linear projection to the end of the allowance's period, while it is under way.
    pub projected: Option<u64>,
}

impl Gauge {
    /// Share of the allowance used (may exceed 1).
    #[must_use]
    pub fn fraction(&self) -> Option<f64> {
        self.allowance.map(|a| {
            if a == 0 {
                0.0
            } else {
                self.used as f64 / a as f64
            }
        })
    }

    /// Whether the projection goes past the allowance.
    #[must_use]
    pub fn heading_over(&self) -> bool {
        matches!((self.projected, self.allowance), (Some(p), Some(a)) if p > a)
    }
}

/// Roaming in one place: a country (Vodafone names the visited network's), else the zone the
/// carrier put it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoamingPlace {
    /// The visited country (or network name), else the zone, else "Abroad (place not reported)".
    pub name: String,
    /// Data used there, in bytes.
    pub data_bytes: u64,
    /// Voice used there, in seconds.
    pub voice_seconds: u64,
    /// SMS and MMS there, in messages.
    pub messages: u64,
}

/// What the portal shows for one SIM over one period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimSummary {
    /// Per service: one gauge per zone the carrier gives an allowance for, else one against the
    /// plan (for data always; for other services when used or planned).
    pub gauges: Vec<Gauge>,
    /// Data used in the period, in bytes.
    pub data_bytes: u64,
    /// The part of `data_bytes` used while roaming.
    pub roaming_data_bytes: u64,
    /// Roaming share of data; `None` without data.
    pub roaming_share: Option<f64>,
    /// Most data first.
    pub places: Vec<RoamingPlace>,
    /// How many records the summary counts.
    pub records: usize,
    /// Some record is finer than a month: the period can be drawn day by day.
    pub has_daily: bool,
}

/// Linear projection of `used` at `now` to the end of `[start, end)`, while `now` is inside.
#[must_use]
pub fn project(used: u64, start: i64, end: i64, now: i64) -> Option<u64> {
    (now > start && now < end)
        .then(|| (used as f64 * (end - start) as f64 / (now - start) as f64).round() as u64)
}

/// The summary of `subject`'s records in `set` over `period` (all records when `subject` is
/// `None`). Carrier allowances (and their projections) come from the dashboard's [`totals`];
/// a service without one is measured against the host's `plan`, projected over the period.
#[must_use]
pub fn summarize(
    set: &UsageSet,
    subject: Option<&Subject>,
    period: Period,
    now: i64,
    plan: &PlanAllowances,
) -> SimSummary {
    let filter = Filter {
        from: Some(period.start),
        to: Some(period.end),
        subjects: subject.cloned().into_iter().collect(),
        ..Filter::default()
    };
    let t = totals(set, &filter, now);
    let mut gauges = Vec::new();
    for service in Service::ALL {
        // The carrier's allowances for this service: the newest period of each zone.
        let mut carrier: Vec<Gauge> = Vec::new();
        for a in t.allowance.iter().filter(|a| a.service == service) {
            if carrier.iter().any(|g| g.zone == a.zone) {
                continue;
            }
            carrier.push(Gauge {
                service,
                zone: a.zone.clone(),
                used: a.used,
                allowance: Some(a.allowance),
                from_carrier: true,
                projected: a.projected_at_end,
            });
        }
        let used = t.of(service);
        if !carrier.is_empty() {
            gauges.extend(carrier);
        } else if used > 0 || plan.of(service).is_some() || service == Service::Data {
            gauges.push(Gauge {
                service,
                zone: None,
                used,
                allowance: plan.of(service),
                from_carrier: false,
                projected: project(used, period.start, period.end, now),
            });
        }
    }
    let compiled = filter.compile(set);
    let mut places: HashMap<String, RoamingPlace> = HashMap::new();
    let mut has_daily = false;
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        has_daily |= matches!(r.granularity, Granularity::Day | Granularity::Event);
        if r.roaming.as_option() != Some(true) {
            continue;
        }
        let visited = set
            .context(r.context)
            .and_then(|c| c.visited_network.as_ref())
            .and_then(|n| n.country.clone().or_else(|| n.name.clone()));
        let name = visited
            .or_else(|| set.resolve(r.zone).map(str::to_owned))
            .unwrap_or_else(|| "Abroad (place not reported)".to_owned());
        let place = places.entry(name.clone()).or_insert(RoamingPlace {
            name,
            data_bytes: 0,
            voice_seconds: 0,
            messages: 0,
        });
        match r.service {
            Service::Data => place.data_bytes = place.data_bytes.saturating_add(r.quantity),
            Service::Voice => place.voice_seconds = place.voice_seconds.saturating_add(r.quantity),
            Service::Sms | Service::Mms => {
                place.messages = place.messages.saturating_add(r.quantity)
            }
        }
    }
    let mut places: Vec<RoamingPlace> = places
        .into_values()
        .filter(|p| p.data_bytes + p.voice_seconds + p.messages > 0)
        .collect();
    places.sort_by(|a, b| b.data_bytes.cmp(&a.data_bytes).then(a.name.cmp(&b.name)));
    SimSummary {
        gauges,
        data_bytes: t.data_bytes,
        roaming_data_bytes: t.roaming_data_bytes,
        roaming_share: (t.data_bytes > 0)
            .then(|| t.roaming_data_bytes as f64 / t.data_bytes as f64),
        places,
        records: t.records,
        has_daily,
    }
}

/// A failed fetch as the customer should read it: what happened and what they can do, without
/// the carrier's codes (those go to the host in `usagelens:error`).
#[must_use]
pub fn customer_message(error: &FetchError) -> &'static str {
    match error.kind {
        FetchErrorKind::Network | FetchErrorKind::Timeout | FetchErrorKind::Server => {
            "We could not reach your carrier; try again in a minute."
        }
        FetchErrorKind::RateLimited => "Your carrier is busy right now; try again in a minute.",
        FetchErrorKind::Auth | FetchErrorKind::Forbidden => {
            "We could not sign in to your carrier to read this SIM's usage. Please contact support."
        }
        FetchErrorKind::NotFound => "Your carrier does not know this SIM. Please contact support.",
        FetchErrorKind::InvalidInput | FetchErrorKind::BadRequest => {
            "Your carrier has no usage for this SIM over that period."
        }
        FetchErrorKind::BadResponse | FetchErrorKind::PagingStalled => {
            "Your carrier's answer could not be read; try again later."
        }
        FetchErrorKind::Cancelled => "The update was stopped.",
    }
}

/// The error's kind as the host reads it in `usagelens:error` (`detail.kind`).
#[must_use]
pub fn error_kind_name(kind: FetchErrorKind) -> &'static str {
    match kind {
        FetchErrorKind::InvalidInput => "invalid-input",
        FetchErrorKind::Auth => "auth",
        FetchErrorKind::Forbidden => "forbidden",
        FetchErrorKind::NotFound => "not-found",
        FetchErrorKind::BadRequest => "bad-request",
        FetchErrorKind::RateLimited => "rate-limited",
        FetchErrorKind::Server => "server",
        FetchErrorKind::Timeout => "timeout",
        FetchErrorKind::Network => "network",
        FetchErrorKind::Cancelled => "cancelled",
        FetchErrorKind::BadResponse => "bad-response",
        FetchErrorKind::PagingStalled => "paging-stalled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::DeviceRef;
    use crate::model::{Direction, Record, SubjectKind};
    use crate::readers::{parse, ParseOptions};

    fn at(day: &str) -> i64 {
        crate::units::parse_day(day).unwrap()
    }

    #[test]
    fn billing_periods_start_on_the_billing_day() {
        let noon = |d: &str| at(d) + 12 * 3600;
        assert_eq!(
            billing_period(noon("2026-11-20"), 1),
            Period {
                start: at("2026-11-01"),
                end: at("2026-12-01")
            }
        );
        assert_eq!(
            billing_period(noon("2026-11-20"), 10),
            Period {
                start: at("2026-11-10"),
                end: at("2026-12-10")
            }
        );
        // Before the billing day: the period began last month; across a year's end too.
        assert_eq!(
            billing_period(noon("2026-01-05"), 10),
            Period {
                start: at("2025-12-10"),
                end: at("2026-01-10")
            }
        );
        assert_eq!(
            billing_period(at("2026-12-10"), 10).start,
            at("2026-12-10"),
            "the first instant of the billing day belongs to the new period"
        );
        // Out-of-range days are clamped rather than producing a nonsense period.
        assert_eq!(
            billing_period(noon("2026-02-20"), 31),
            billing_period(noon("2026-02-20"), 28)
        );
        assert_eq!(
            billing_period(noon("2026-02-20"), 0),
            billing_period(noon("2026-02-20"), 1)
        );
    }

    #[test]
    fn period_choices_resolve() {
        let now = at("2026-11-20") + 3600;
        assert_eq!(
            PeriodChoice::Last.resolve(now, 10).unwrap(),
            Period {
                start: at("2026-10-10"),
                end: at("2026-11-10")
            }
        );
        assert_eq!(
            PeriodChoice::Last.resolve(at("2026-01-15"), 1).unwrap(),
            Period {
                start: at("2025-12-01"),
                end: at("2026-01-01")
            }
        );
        let custom = PeriodChoice::Custom {
            first_day: at("2026-09-01"),
            last_day: at("2026-09-30"),
        };
        assert_eq!(
            custom.resolve(now, 1).unwrap(),
            Period {
                start: at("2026-09-01"),
                end: at("2026-10-01")
            }
        );
        assert_eq!(
            custom.resolve(now, 1).unwrap().days(),
            ("2026-09-01".into(), "2026-09-30".into())
        );
        let backwards = PeriodChoice::Custom {
            first_day: at("2026-09-30"),
            last_day: at("2026-09-01"),
        };
        assert!(backwards
            .resolve(now, 1)
            .unwrap_err()
            .contains("before the first day"));
        let future = PeriodChoice::Custom {
            first_day: at("2026-12-01"),
            last_day: at("2026-12-05"),
        };
        assert!(future.resolve(now, 1).unwrap_err().contains("future"));
    }

    #[test]
    fn queries_ask_each_carrier_for_the_period_and_nothing_after_now() {
        let now = at("2026-11-20") + 3600;
        let period = billing_period(now, 1);
        let ts = Subject::new(SubjectKind::Iccid, "89148000000000000019");
        match period_query(&ts, Carrier::Thingspace, period, now, true).unwrap() {
            UsageQuery::Thingspace {
                device,
                earliest,
                latest,
            } => {
                assert_eq!(device, DeviceRef::Id(ts.clone()));
                assert_eq!((earliest, latest), (at("2026-11-01"), now));
            }
            q => panic!("{q:?}"),
        }
        let last = PeriodChoice::Last.resolve(now, 10).unwrap();
        match period_query(&ts, Carrier::Thingspace, last, now, false).unwrap() {
            UsageQuery::Thingspace { latest, .. } => assert_eq!(latest, at("2026-11-10") - 1),
            q => panic!("{q:?}"),
        }
        let account = Subject::new(SubjectKind::Account, "5c1b21b5a90b02f846f7bde1");
        assert_eq!(
            period_query(&account, Carrier::Telecomx, last, now, false).unwrap(),
            UsageQuery::Telecomx {
                account: account.id.clone(),
                from: (2026, 10),
                to: (2026, 11),
                csv: false
            }
        );
        let cc = Subject::new(SubjectKind::Iccid, "8988216716970004973");
        match period_query(&cc, Carrier::ControlCenter, period, now, true).unwrap() {
            UsageQuery::ControlCenter { cycle_start, .. } => assert_eq!(cycle_start, None),
            q => panic!("{q:?}"),
        }
        match period_query(&cc, Carrier::ControlCenter, last, now, false).unwrap() {
            UsageQuery::ControlCenter { cycle_start, .. } => {
                assert_eq!(cycle_start, NaiveDate::from_ymd_opt(2026, 10, 10))
            }
            q => panic!("{q:?}"),
        }
    }

    /// Day, service, quantity, allowance, roaming, zone, granularity.
    type Row<'a> = (
        &'a str,
        Service,
        u64,
        Option<u64>,
        Option<bool>,
        Option<&'a str>,
        Granularity,
    );

    fn set_with(records: &[Row<'_>]) -> (UsageSet, Subject) {
        let mut set = UsageSet::new();
        let subject = Subject::new(SubjectKind::Iccid, "89148000000000000019");
        let sym = set.intern_subject(&subject);
        for (day, service, q, allowance, roaming, zone, granularity) in records {
            let duration = if *granularity == Granularity::Month {
                30 * 86_400
            } else {
                86_400
            };
            let zone = set.intern_opt(*zone);
            let r = Record::new(
                Carrier::Thingspace,
                sym,
                at(day),
                duration,
                *granularity,
                *service,
                Direction::Total,
                *q,
            )
            .with_allowance(*allowance)
            .with_roaming(*roaming)
            .with_zone(zone);
            set.push(r);
        }
        (set, subject)
    }

    #[test]
    fn a_sim_without_carrier_allowances_is_measured_against_the_plan_and_projected() {
        use Granularity::Day;
        let (set, subject) = set_with(&[
            (
                "2026-11-01",
                Service::Data,
                100,
                None,
                Some(false),
                Some("domestic"),
                Day,
            ),
            (
                "2026-11-02",
                Service::Data,
                300,
                None,
                Some(true),
                Some("international"),
                Day,
            ),
            ("2026-11-03", Service::Sms, 4, None, Some(false), None, Day),
            // Outside the period: not counted.
            (
                "2026-10-31",
                Service::Data,
                1_000_000,
                None,
                Some(true),
                Some("international"),
                Day,
            ),
        ]);
        let period = billing_period(at("2026-11-16"), 1);
        // Half-way through November (15 of 30 days): the projection doubles what was used.
        let now = at("2026-11-16");
        let plan = PlanAllowances {
            data: Some(1000),
            ..PlanAllowances::default()
        };
        let s = summarize(&set, Some(&subject), period, now, &plan);
        assert_eq!(s.data_bytes, 400);
        assert_eq!(s.roaming_share, Some(0.75));
        assert!(s.has_daily);
        let data = &s.gauges[0];
        assert_eq!(
            (data.service, data.used, data.allowance, data.from_carrier),
            (Service::Data, 400, Some(1000), false)
        );
        assert_eq!(data.projected, Some(800));
        assert_eq!(data.fraction(), Some(0.4));
        assert!(!data.heading_over());
        // SMS has use but no allowance; voice and MMS have neither and are left out.
        assert_eq!(s.gauges.len(), 2);
        assert_eq!(
            (s.gauges[1].service, s.gauges[1].used, s.gauges[1].allowance),
            (Service::Sms, 4, None)
        );
        assert_eq!(
            s.places,
            vec![RoamingPlace {
                name: "international".into(),
                data_bytes: 300,
                voice_seconds: 0,
                messages: 0
            }]
        );
        // A past period is not projected.
        let last = summarize(
            &set,
            Some(&subject),
            PeriodChoice::Last.resolve(now, 1).unwrap(),
            now,
            &plan,
        );
        assert_eq!(last.gauges[0].used, 1_000_000);
        assert_eq!(last.gauges[0].projected, None);
        assert!(last.gauges[0].fraction().unwrap() > 1.0);
    }

    #[test]
    fn carrier_allowances_win_over_the_plan_per_zone() {
        // The TelecomX fixture reports a home data allowance and voice allowances per region.
        let text = include_str!("../tests/fixtures/telecomx-doc-example.json");
        let mut set = UsageSet::new();
        parse(text, &ParseOptions::default(), &mut set).unwrap();
        let first = set.records.iter().map(|r| r.start).min().unwrap();
        let period = Period {
            start: first,
            end: first + 31 * 86_400,
        };
        let plan = PlanAllowances {
            data: Some(1),
            ..PlanAllowances::default()
        };
        let s = summarize(&set, None, period, period.end + 1, &plan);
        let data: Vec<&Gauge> = s
            .gauges
            .iter()
            .filter(|g| g.service == Service::Data)
            .collect();
        assert!(!data.is_empty());
        assert!(
            data.iter()
                .all(|g| g.from_carrier && g.allowance != Some(1)),
            "{data:?}"
        );
        assert!(
            s.gauges.iter().all(|g| g.projected.is_none()),
            "a finished period is not projected"
        );
    }

    #[test]
    fn projection_only_inside_the_period() {
        assert_eq!(project(10, 0, 100, 50), Some(20));
        assert_eq!(project(10, 0, 100, 0), None);
        assert_eq!(project(10, 0, 100, 100), None);
    }

    #[test]
    fn customer_messages_carry_no_codes() {
        let e = FetchError {
            kind: FetchErrorKind::Network,
            carrier: Carrier::Thingspace,
            http_status: Some(502),
            carrier_code: Some("900901".into()),
            message: "Failed to fetch".into(),
        };
        assert_eq!(
            customer_message(&e),
            "We could not reach your carrier; try again in a minute."
        );
        for kind in [
            FetchErrorKind::InvalidInput,
            FetchErrorKind::Auth,
            FetchErrorKind::Forbidden,
            FetchErrorKind::NotFound,
            FetchErrorKind::BadRequest,
            FetchErrorKind::RateLimited,
            FetchErrorKind::Server,
            FetchErrorKind::Timeout,
            FetchErrorKind::Network,
            FetchErrorKind::Cancelled,
            FetchErrorKind::BadResponse,
            FetchErrorKind::PagingStalled,
        ] {
            let m = customer_message(&FetchError { kind, ..e.clone() });
            assert!(
                !m.contains("HTTP") && !m.chars().any(|c| c.is_ascii_digit()),
                "{m}"
            );
            assert!(!error_kind_name(kind).is_empty());
        }
    }
}
