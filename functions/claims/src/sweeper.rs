//! The claims sweeper (a scheduled Lambda; a background task in `mso serve`):
//! sends the edit work items still in the outbox after a minute (in the stack,
//! those `outbox-relay` failed or lags on; in `mso serve`, those whose sender
//! stopped between storing a claim and sending its message), so no received
//! claim waits for edits that never come.

use jiff::{SignedDuration, Timestamp};
use mso_records::claims::CLAIM_EDITS;
use mso_store::StoreError;
use serde::Serialize;

use crate::Deps;

/// A work item younger than this is still being sent by its request.
const OUTBOX_GRACE: SignedDuration = SignedDuration::from_secs(60);
/// Most work items relayed per sweep (the next sweep takes the rest).
const MAX_RELAYED: usize = 1_000;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Work items sent on behalf of requests that did not.
    pub relayed_events: usize,
}

/// One sweep at `now`.
pub async fn sweep(deps: &Deps, now: Timestamp) -> Result<SweepReport, StoreError> {
    let grace = now.checked_sub(OUTBOX_GRACE).unwrap_or(now);
    let relayed_events = mso_api::outbox::relay(
        deps.records.as_ref(),
        deps.queue.as_ref(),
        CLAIM_EDITS,
        grace,
        MAX_RELAYED,
    )
    .await?;
    tracing::info!(relayed_events, "claims sweep");
    Ok(SweepReport { relayed_events })
}
