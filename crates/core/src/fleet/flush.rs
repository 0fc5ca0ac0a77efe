//! [`FlushPacer`]: when a running fleet fetch moves its results into the view.

/// When a fleet fetch moves its fetched records into the view. Every move re-aggregates and
/// redraws the dashboard on the thread that also sends the requests and reads the answers, so
/// the pacer keeps that work to a share of the time: the next move comes no sooner than
/// `min_interval_ms` and no sooner than the last move's measured cost divided by the share.
/// (A fixed 500 ms left the thread 40 % busy on 200 subjects and cut the requests in flight
/// from 8 to 6.3; see README "Performance".)
#[derive(Clone, Debug)]
pub struct FlushPacer {
    min_interval_ms: u64,
    share: f64,
    next_ms: u64,
}

impl FlushPacer {
    /// `share` of the time (0 < share <= 1) the view may take; the first move is due
    /// `min_interval_ms` after `now_ms`.
    pub fn new(now_ms: u64, min_interval_ms: u64, share: f64) -> FlushPacer {
        FlushPacer {
            min_interval_ms,
            share: if share > 0.0 && share <= 1.0 {
                share
            } else {
                1.0
            },
            next_ms: now_ms.saturating_add(min_interval_ms),
        }
    }

    /// Whether the next move is due at `now_ms` (milliseconds).
    pub fn due(&self, now_ms: u64) -> bool {
        now_ms >= self.next_ms
    }

    /// A move started at `started_ms` and the view took `cost_ms` to follow it.
    pub fn moved(&mut self, started_ms: u64, cost_ms: u64) {
        let spaced = (cost_ms as f64 / self.share).ceil() as u64;
        self.next_ms = started_ms.saturating_add(spaced.max(self.min_interval_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_pacer_keeps_the_view_to_its_share() {
        let mut pacer = FlushPacer::new(1_000, 500, 0.1);
        assert!(!pacer.due(1_499));
        assert!(pacer.due(1_500));
        // A cheap redraw: the minimum interval holds.
        pacer.moved(1_500, 20);
        assert!(!pacer.due(1_999));
        assert!(pacer.due(2_000));
        // A 140 ms redraw at a 10 % share: the next one 1.4 s after this one started.
        pacer.moved(2_000, 140);
        assert!(!pacer.due(3_399));
        assert!(pacer.due(3_400));
        // Cheap again: back to the minimum.
        pacer.moved(3_400, 10);
        assert!(pacer.due(3_900));
        // A share out of range means no spacing beyond the cost itself.
        let mut whole = FlushPacer::new(0, 0, 0.0);
        whole.moved(100, 30);
        assert!(!whole.due(129));
        assert!(whole.due(130));
    }
}
