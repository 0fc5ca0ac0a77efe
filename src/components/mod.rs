//! Leptos components, one per file.

pub mod allowances;
pub mod app;
pub mod breakdown;
pub mod chart_export;
pub mod chart_panel;
pub mod credential_fields;
pub mod data_bar;
pub mod export_buttons;
pub mod filters_bar;
pub mod fleet_account;
pub mod fleet_credentials;
pub mod fleet_failures;
pub mod fleet_fetch;
pub mod fleet_progress;
pub mod fleet_subjects;
pub mod fleet_view;
pub mod import_panel;
pub mod kpi_cards;
pub mod live_fetch;
pub mod portal_sim;
pub mod portal_view;
pub mod record_detail;
pub mod records_table;
pub mod source_list;
pub mod usage_chart;
pub mod usage_gauge;
