//! JSON logs through `tracing`. Fields are chosen at each `#[instrument]` from an
//! allow-list (request and correlation IDs, route, organisation, outcome); request
//! bodies, member IDs, names, dates of birth and codes are never logged.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON subscriber once (later calls are ignored). `RUST_LOG` is a level
/// (`info`) or `target=level` pairs (`info,mso_store=debug`); default `info`.
/// (`Targets`, not `EnvFilter`: no regex engine in every Lambda binary.)
pub fn init() {
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        // Lambda ships both streams to CloudWatch; locally, stdout stays for output.
        .with_writer(std::io::stderr)
        .finish()
        .with(filter)
        .try_init();
}
