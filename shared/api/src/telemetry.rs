//! JSON logs through `tracing`. Fields are chosen at each `#[instrument]` from an
//! allow-list (request and correlation IDs, route, organisation, outcome); request
//! bodies, member IDs, names, dates of birth and codes are never logged.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once (later calls are ignored). The level comes from
/// `RUST_LOG` (default `info`).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        // Lambda ships both streams to CloudWatch; locally, stdout stays for output.
        .with_writer(std::io::stderr)
        .try_init();
}
