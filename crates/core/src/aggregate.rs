//! Aggregation over records: totals, time series, breakdowns.
