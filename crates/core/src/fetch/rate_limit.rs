//! [`RateLimiter`]: requests per carrier per second, at the user's limit or one learned from the
//! carrier's 429s. Shared by every job of a fleet fetch.

use std::collections::{HashMap, VecDeque};

use crate::model::Carrier;

/// At most `per_second` requests per carrier in any one-second window: the user's limit, or,
/// where none is set, one learned from the carrier's 429s.
///
/// Learning: at the first 429, the carrier's limit becomes the number of requests sent to it in
/// the second before the refused one and not refused themselves (answered or still in flight:
/// they reached the carrier first), less a twentieth for clock jitter, and nothing more goes to
/// it until its `Retry-After`. A later 429 steps the limit down a twentieth (or to what got
/// through in its second, if fewer) without stopping everything again. Answers to requests sent
/// before the last lesson say nothing new and are ignored, so the 429s already in flight do not
/// lower it again. (Without this, 8 workers against a carrier allowing 50 a second kept hitting
/// 429s and reached 70 % of the limit; see README "Performance".)
#[derive(Clone, Debug, Default)]
pub struct RateLimiter {
    limits: HashMap<Carrier, u32>,
    learned: HashMap<Carrier, Learned>,
    /// Send times within the last second, per carrier with a limit (the pacing window).
    sent: HashMap<Carrier, VecDeque<u64>>,
    /// Send times of every request, and of those answered 429, within [`HISTORY_MS`].
    history: HashMap<Carrier, (VecDeque<u64>, VecDeque<u64>)>,
}

/// How long send times are kept for learning: an answer can come this late (the longest
/// request timeout) and still be judged against the second before it was sent.
const HISTORY_MS: u64 = 61_000;

#[derive(Clone, Copy, Debug)]
struct Learned {
    per_second: u32,
    /// Requests sent before this taught nothing new.
    at_ms: u64,
    hold_until_ms: u64,
}

fn forget_before(times: &mut VecDeque<u64>, cutoff_ms: u64) {
    while times.front().is_some_and(|&t| t < cutoff_ms) {
        times.pop_front();
    }
}

/// How many of the sorted `times` fall in `from..=to`.
fn count_within(times: &VecDeque<u64>, from: u64, to: u64) -> usize {
    times.partition_point(|&t| t <= to) - times.partition_point(|&t| t < from)
}

impl RateLimiter {
    /// A limiter with no limits set and nothing learned.
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// `None` or 0 removes the carrier's limit.
    pub fn set_limit(&mut self, carrier: Carrier, per_second: Option<u32>) {
        match per_second.filter(|n| *n > 0) {
            Some(n) => self.limits.insert(carrier, n),
            None => self.limits.remove(&carrier),
        };
    }

    /// The limit in force: the user's, else the learned one.
    pub fn limit(&self, carrier: Carrier) -> Option<u32> {
        self.limits
            .get(&carrier)
            .copied()
            .or_else(|| self.learned_limit(carrier))
    }

    /// The limit learned from the carrier's 429s, if any.
    pub fn learned_limit(&self, carrier: Carrier) -> Option<u32> {
        self.learned.get(&carrier).map(|l| l.per_second)
    }

    /// Takes a slot for one request now (the caller sends it at `now_ms`), or says when the
    /// next slot frees up.
    pub fn acquire(&mut self, carrier: Carrier, now_ms: u64) -> Result<(), u64> {
        if let Some(hold) = self.learned.get(&carrier).map(|l| l.hold_until_ms) {
            if now_ms < hold {
                return Err(hold);
            }
        }
        if let Some(limit) = self.limit(carrier) {
            let sent = self.sent.entry(carrier).or_default();
            forget_before(sent, now_ms.saturating_add(1).saturating_sub(1000));
            // A slot frees when the limit-th latest send leaves the window: after a lowered
            // limit the window can hold more than `limit`, and its oldest leaving is not enough.
            if let Some(latest) = sent.len().checked_sub(limit as usize) {
                return Err(sent[latest].saturating_add(1000));
            }
            sent.push_back(now_ms);
        }
        let (all, _) = self.history.entry(carrier).or_default();
        forget_before(all, now_ms.saturating_sub(HISTORY_MS));
        all.push_back(now_ms);
        Ok(())
    }

    /// Feeds back a 429 to the request sent at `sent_ms` (the time it was acquired), with how
    /// long the carrier asked to wait (`retry_after_ms`, 1 s when it did not say, at most
    /// [`MAX_RETRY_AFTER_MS`](crate::limits::MAX_RETRY_AFTER_MS) as for a single fetch). Other
    /// answers teach nothing: the requests that got through are every send not refused.
    pub fn refused(
        &mut self,
        carrier: Carrier,
        sent_ms: u64,
        now_ms: u64,
        retry_after_ms: Option<u64>,
    ) {
        let (all, refused) = self.history.entry(carrier).or_default();
        forget_before(refused, now_ms.saturating_sub(HISTORY_MS));
        let at = refused.partition_point(|&t| t <= sent_ms);
        refused.insert(at, sent_ms);
        let stale = self
            .learned
            .get(&carrier)
            .is_some_and(|l| sent_ms < l.at_ms);
        // The user's limit is kept as set: at a carrier's exact limit a few 429s from clock
        // jitter cost less than learning below it (90-93 % of the limit against 80-81 %).
        if stale || self.limits.contains_key(&carrier) {
            return;
        }
        // This request is among both counts; the others in its second got through.
        let from = sent_ms.saturating_add(1).saturating_sub(1000);
        let got_through = count_within(all, from, sent_ms)
            .saturating_sub(count_within(refused, from, sent_ms)) as u32;
        // A twentieth below, at least one, for the jitter between our clock and the carrier's.
        let below = |n: u32| n.saturating_sub((n / 20).max(1)).max(1);
        let learned = match self.learned.get(&carrier) {
            // The first lesson: nothing goes until the carrier's window has cleared.
            None => Learned {
                per_second: below(got_through),
                at_ms: now_ms,
                hold_until_ms: now_ms.saturating_add(
                    retry_after_ms
                        .unwrap_or(1000)
                        .min(crate::limits::MAX_RETRY_AFTER_MS),
                ),
            },
            // Later ones step down without stopping everything again; a second that overlaps
            // the hold sent less than the carrier allows, so its count says nothing.
            Some(l) => Learned {
                per_second: if from < l.hold_until_ms {
                    below(l.per_second)
                } else {
                    got_through.min(below(l.per_second)).max(1)
                },
                at_ms: now_ms,
                hold_until_ms: l.hold_until_ms,
            },
        };
        self.learned.insert(carrier, learned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_n_per_second_per_carrier() {
        let mut limiter = RateLimiter::new();
        limiter.set_limit(Carrier::Thingspace, Some(2));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 0), Ok(()));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 300), Ok(()));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 500), Err(1000));
        assert_eq!(
            limiter.acquire(Carrier::ControlCenter, 500),
            Ok(()),
            "no limit set"
        );
        assert_eq!(limiter.acquire(Carrier::Thingspace, 1000), Ok(()));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 1200), Err(1300));
        limiter.set_limit(Carrier::Thingspace, Some(0));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 1200), Ok(()));
        // Lowered from five to two: the next slot is when the second-latest send leaves the
        // second (at 1000 the sends at 1 to 4 are still in it).
        let mut lowered = RateLimiter::new();
        lowered.set_limit(Carrier::Telecomx, Some(5));
        for t in 0..5 {
            assert_eq!(lowered.acquire(Carrier::Telecomx, t), Ok(()));
        }
        lowered.set_limit(Carrier::Telecomx, Some(2));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 10), Err(1003));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 1002), Err(1003));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 1003), Ok(()));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 1003), Err(1004));
    }

    #[test]
    fn rate_limiter_learns_a_carrier_limit_from_its_429s() {
        let cc = Carrier::ControlCenter;
        let mut limiter = RateLimiter::new();
        // No limit yet: every request goes, one each 20 ms, until the 46th, sent at 900 ms, is
        // answered 429 (some before it answered, some still in flight).
        for i in 0..46u64 {
            assert_eq!(limiter.acquire(cc, i * 20), Ok(()));
        }
        assert_eq!(limiter.limit(cc), None);
        // The 45 sent in the second before it got through (answered or in flight): the limit
        // is 45 less a twentieth, and nothing goes until 1950 ms.
        limiter.refused(cc, 900, 950, Some(1000));
        assert_eq!(limiter.learned_limit(cc), Some(43));
        assert_eq!(limiter.acquire(cc, 960), Err(1950));
        // A 429 for a request sent before the lesson (already in flight) teaches nothing.
        limiter.refused(cc, 880, 970, Some(1000));
        assert_eq!(limiter.learned_limit(cc), Some(43));
        assert_eq!(limiter.acquire(cc, 1949), Err(1950));
        // After the hold, requests are spaced at 43 a second.
        for i in 0..43u64 {
            assert_eq!(limiter.acquire(cc, 1950 + i), Ok(()));
        }
        assert_eq!(limiter.acquire(cc, 2000), Err(2950));
        // Other carriers are not held.
        assert_eq!(limiter.acquire(Carrier::Thingspace, 960), Ok(()));
        // A later 429 steps down a twentieth without a new hold (its second overlaps the hold,
        // so its count says nothing); the one sent before that lesson is ignored.
        limiter.refused(cc, 1960, 2010, None);
        limiter.refused(cc, 1970, 2020, None);
        assert_eq!(limiter.learned_limit(cc), Some(41));
        // 42 of the 43 sent from 1950 ms are still within the second: at 41 that is too many
        // until two have left it (at 2951 the 41 sent from 1952 ms are still in).
        assert_eq!(limiter.acquire(cc, 2950), Err(2952));
        assert_eq!(limiter.acquire(cc, 2951), Err(2952));
        assert_eq!(limiter.acquire(cc, 2952), Ok(()));
        // One send, refused: never below 1.
        let mut fresh = RateLimiter::new();
        assert_eq!(fresh.acquire(cc, 0), Ok(()));
        fresh.refused(cc, 0, 10, None);
        assert_eq!(fresh.learned_limit(cc), Some(1));
        // Past the hold, a second that got fewer through than the limit sets it.
        let mut paced = RateLimiter::new();
        for t in (0..=900).step_by(20) {
            assert_eq!(paced.acquire(cc, t), Ok(()));
        }
        paced.refused(cc, 900, 950, Some(100));
        assert_eq!(paced.learned_limit(cc), Some(43));
        for t in (1050..1480).step_by(10).chain((2050..2250).step_by(20)) {
            assert_eq!(paced.acquire(cc, t), Ok(()));
        }
        // Its second, 1231..=2230 ms, saw 24 + 10 sends, one of them refused.
        paced.refused(cc, 2230, 2260, None);
        assert_eq!(paced.learned_limit(cc), Some(33));
        // The user's limit is kept as set: its 429s teach nothing and hold nothing.
        let mut set = RateLimiter::new();
        set.set_limit(cc, Some(20));
        for t in (0..400).step_by(20) {
            assert_eq!(set.acquire(cc, t), Ok(()));
        }
        set.refused(cc, 380, 400, Some(500));
        assert_eq!((set.limit(cc), set.learned_limit(cc)), (Some(20), None));
        assert_eq!(set.acquire(cc, 1000), Ok(()));
    }

    #[test]
    fn a_huge_retry_after_holds_the_carrier_no_longer_than_the_cap() {
        let cc = Carrier::ControlCenter;
        let cap = crate::limits::MAX_RETRY_AFTER_MS;
        // `Retry-After: 999999` (11 days), and a value at the end of the range.
        for retry_after in [999_999_000, u64::MAX] {
            let mut limiter = RateLimiter::new();
            assert_eq!(limiter.acquire(cc, 1_000), Ok(()));
            limiter.refused(cc, 1_000, 1_100, Some(retry_after));
            assert_eq!(limiter.acquire(cc, 1_200), Err(1_100 + cap));
            assert_eq!(limiter.acquire(cc, 1_100 + cap), Ok(()));
        }
        // Far in the future, nothing overflows either.
        let mut limiter = RateLimiter::new();
        assert_eq!(limiter.acquire(cc, u64::MAX - 10), Ok(()));
        limiter.refused(cc, u64::MAX - 10, u64::MAX - 5, Some(u64::MAX));
        assert_eq!(limiter.acquire(cc, u64::MAX - 4), Err(u64::MAX));
    }
}
