//! Fleets: many subjects across carriers.
//!
//! - [`list`]: [`parse_subject_list`] reads the list users paste or import (CSV, one identifier
//!   per row, with an optional carrier and kind column), validating every identifier before
//!   anything is sent.
//! - [`run`]: [`FleetRun`], the sans-IO scheduler: which subject to start next under the
//!   concurrency limit, pause, cancel, retry of the failed ones, progress and ETA.
//! - [`controller`]: [`FleetController`], one fleet fetch driven by the executor: the jobs in
//!   flight, shared tokens and sessions, the refused-credentials rule, rate limits, results.
//! - [`flush`]: [`FlushPacer`], when a running fetch moves its results into the view.
//! - [`summary`]: [`fleet_summary`] answers the fleet questions in one pass: per-subject totals
//!   (top-N), how many subjects used how much (distribution), and who is over an allowance.
//! - [`carrier_rules`]: what the fleet asks of each carrier through its spec (the query for a
//!   subject over the period, the token scope).
//!
//! Requests per carrier are spaced by [`RateLimiter`](crate::fetch::RateLimiter).

pub mod carrier_rules;
pub mod controller;
pub mod flush;
pub mod list;
pub mod run;
pub mod summary;

pub use controller::{FleetController, FleetPeriod, FleetPoll, FleetResults, FleetSetup, Ticket};
pub use flush::FlushPacer;
pub use list::{parse_subject_list, FleetEntry, ListProblem, SubjectList};
pub use run::{EntryState, Fetched, FleetProgress, FleetRun, FleetStep, Problem, ProblemGroup};
pub use summary::{fleet_summary, DistributionBin, FleetSummary, OverAllowance, SubjectTotal};
