//! HTTP plumbing every function shares: who is calling ([`Principal`]), how errors
//! look on the wire ([`Problem`], RFC 9457), JSON responses that are never cached,
//! the PHI audit trail, idempotent POSTs, the clock, JSON logs, and the IPA
//! policies bundled into every binary.
//!
//! Nothing here knows a business rule: those live in `mso-domain`.

pub mod aggregate;
pub mod audit;
pub mod body;
pub mod clock;
pub mod config;
pub mod directory;
pub mod gateway;
pub mod idempotency;
pub mod ids;
#[cfg(feature = "aws")]
pub mod lambda_env;
pub mod outbox;
pub mod paging;
pub mod policies;
mod principal;
mod problem;
pub mod read;
mod request;
pub mod s3_event;
pub mod tasks;
pub mod telemetry;
pub mod throttle;

pub use clock::{Clock, FixedClock, SystemClock};
pub use principal::{AuthError, Forbidden, PROVIDER_ROLES, Principal, Role, Scope};
pub use problem::{FieldError, FieldErrors, Problem, json_response};
pub use request::{RequestInfo, route_key};

/// Re-exported so functions and the local server share one version of the
/// request and event types.
pub use lambda_http::{self, Body, Request, Response, aws_lambda_events};
