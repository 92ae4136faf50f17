//! The queue consumer: each message on `claim-edits` runs the edits of one
//! received claim; each on `claim-readjudication` sends a claim back to an
//! examiner after a dispute went the provider's way.
//!
//! SQS delivers at least once, so every step is idempotent: a claim already
//! judged is left as it is, a readjudication already noted is not noted again.
//! The claim, its rows, its file row and its duplicate guard change in one
//! conditional transaction; when it fails on a condition (another writer, or an
//! identical claim that became live meanwhile) the edits run again on what the
//! store holds now. Failed messages are reported one by one
//! ([`SqsBatchResponse`]), so a batch never redoes the ones that passed, and a
//! message that keeps failing ends in the dead-letter queue.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jiff::Timestamp;
use mso_domain::claims::edits::{self, Edit, Facts, Outcome};
use mso_domain::claims::{Claim, Frequency, Status, validate};
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_records::claims::{self, Change, EditWork, Readjudication, Turn};
use mso_store::StoreError;
use serde::Serialize;

use crate::Deps;

/// Attempts when the claim, a guard or the member's turn changes between read
/// and write (another of the member's claims judged meanwhile).
const ATTEMPTS: usize = 12;

/// What one message did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Handled {
    /// The edits ran: the claim is now `status`.
    Judged { claim_id: String, status: Status },
    /// Sent back to an examiner after a dispute.
    Readjudicated { claim_id: String },
    /// Already done (a redelivered message): nothing changed.
    Unchanged { claim_id: String },
}

/// Why a message could not be handled; it is retried, then dead-lettered.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the message is not a claim work item")]
    Malformed,
    #[error("no claim {0}")]
    NoSuchClaim(String),
    #[error("the claim kept changing while its edits ran")]
    Contention,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// Handles a batch: one member's messages one after the other, different
/// members' concurrently (each waits mostly on the store); the failures are
/// reported, so only they are redelivered.
pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let group = serde_json::from_str::<EditWork>(&body)
            .map(|w| w.group)
            .ok()
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| id.clone());
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, messages)) => messages.push((id, body)),
            None => groups.push((group, vec![(id, body)])),
        }
    }
    let mut running = tokio::task::JoinSet::new();
    let mut members_of_task = std::collections::HashMap::new();
    for (_, messages) in groups {
        let deps = deps.clone();
        let ids: Vec<String> = messages.iter().map(|(id, _)| id.clone()).collect();
        let task = running.spawn(async move {
            let mut failed = Vec::new();
            for (id, body) in messages {
                if let Err(e) = message(&deps, &body).await.map(|h| log(&h)) {
                    tracing::error!(message_id = %id, error = %e, "claim message failed; it will be redelivered");
                    failed.push(id);
                }
            }
            failed
        });
        members_of_task.insert(task.id(), ids);
    }
    let mut response = SqsBatchResponse::default();
    while let Some(joined) = running.join_next_with_id().await {
        let failed = match joined {
            Ok((_, failed)) => failed,
            // A task that panicked: all its group's messages are redelivered
            // (those it had handled change nothing the second time).
            Err(e) => {
                tracing::error!(error = %e, "a claim group's task panicked");
                members_of_task.remove(&e.id()).unwrap_or_default()
            }
        };
        for id in failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

fn log(handled: &Handled) {
    match handled {
        Handled::Judged { claim_id, status } => {
            tracing::info!(claim_id = %claim_id, status = status.as_str(), "claim judged")
        }
        Handled::Readjudicated { claim_id } => {
            tracing::info!(claim_id = %claim_id, "claim sent back for re-adjudication")
        }
        Handled::Unchanged { claim_id } => {
            tracing::info!(claim_id = %claim_id, "claim message already handled")
        }
    }
}

/// One message of either queue (told apart by their bodies).
pub async fn message(deps: &Deps, body: &str) -> Result<Handled, EditError> {
    if let Ok(r) = serde_json::from_str::<Readjudication>(body) {
        return readjudicate(deps, &r).await;
    }
    let work: EditWork = serde_json::from_str(body).map_err(|_| EditError::Malformed)?;
    let id = ReferenceId::parse_kind(RecordKind::Claim, &work.claim_id)
        .map_err(|_| EditError::Malformed)?;
    judge(deps, &id).await
}

/// Runs the edits of a received claim.
pub async fn judge(deps: &Deps, id: &ReferenceId) -> Result<Handled, EditError> {
    let store = deps.records.as_ref();
    for _ in 0..ATTEMPTS {
        let stored = claims::load(store, id)
            .await?
            .ok_or_else(|| EditError::NoSuchClaim(id.to_string()))?;
        let mut claim = stored.value.0.clone();
        if claim.status != Status::Received {
            return Ok(Handled::Unchanged {
                claim_id: id.to_string(),
            });
        }
        let Judged { turn, outcome } = outcome(deps, &claim).await?;
        let now = deps.clock.now();
        claim.judged(outcome, now);
        let mut change = Change::updated(&stored, &claim)?.in_turn(&turn);
        if let Some(original) = supersede_original(deps, &claim, now).await? {
            change = change.and(original);
        }
        match change.commit(deps.ports(), None).await {
            Ok(()) => {
                return Ok(Handled::Judged {
                    claim_id: id.to_string(),
                    status: claim.status,
                });
            }
            Err(StoreError::ConditionFailed) => backoff().await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(EditError::Contention)
}

/// A short random pause before judging again, so claims racing for one
/// member's turn do not collide again in step.
async fn backoff() {
    tokio::time::sleep(std::time::Duration::from_micros(fastrand::u64(200..3_000))).await;
}

/// The edits' answer for `claim`, and the member's turn it was given in.
struct Judged {
    turn: Turn,
    outcome: Outcome,
}

/// The edits' answer for `claim`, from what the store holds now: the member's
/// turn first (with the member), then the rest of what the edits read.
async fn outcome(deps: &Deps, claim: &Claim) -> Result<Judged, StoreError> {
    let store = deps.records.as_ref();
    let member_id = &claim.submission.member_id;
    let checked = match validate(&claim.submission) {
        Ok(checked) => checked,
        Err(problems) => {
            return Ok(Judged {
                turn: Turn::take(store, member_id).await?,
                outcome: Outcome::of(problems.iter().map(Edit::invalid).collect()),
            });
        }
    };
    let (turn, member) = Turn::take_with_member(store, member_id, &checked.member_id).await?;
    let facts = claims::facts(store, &deps.policy, claim, &checked, member).await?;
    let outcome = edits::run(
        &claim.id,
        &checked,
        &Facts {
            policy: &deps.policy,
            received_at: claim.received_at,
            member: facts.member.as_ref(),
            pcps: &facts.pcps,
            auths: &facts.auths,
            others: &facts.others,
            original: facts.original.as_ref(),
        },
    );
    Ok(Judged { turn, outcome })
}

/// When `claim` is an accepted replacement or void, the change that supersedes
/// its original (still live, same organisation).
pub(crate) async fn supersede_original(
    deps: &Deps,
    claim: &Claim,
    at: Timestamp,
) -> Result<Option<Change>, StoreError> {
    let frequency = claim.submission.frequency;
    if claim.status != Status::Accepted || frequency == Frequency::Original {
        return Ok(None);
    }
    let Some(original_id) = claim
        .submission
        .original_claim_id
        .as_deref()
        .and_then(|id| ReferenceId::parse_kind(RecordKind::Claim, id).ok())
    else {
        return Ok(None);
    };
    let Some(stored) = claims::load(deps.records.as_ref(), &original_id).await? else {
        return Ok(None);
    };
    let mut original = stored.value.0.clone();
    if original.org != claim.org || !original.status.is_live() {
        return Ok(None);
    }
    original.superseded(&claim.id, frequency, at);
    Change::updated(&stored, &original).map(Some)
}

async fn readjudicate(deps: &Deps, r: &Readjudication) -> Result<Handled, EditError> {
    let id = ReferenceId::parse_kind(RecordKind::Claim, &r.claim_id)
        .map_err(|_| EditError::Malformed)?;
    let store = deps.records.as_ref();
    for _ in 0..ATTEMPTS {
        let stored = claims::load(store, &id)
            .await?
            .ok_or_else(|| EditError::NoSuchClaim(id.to_string()))?;
        let mut claim = stored.value.0.clone();
        let noted = claim.history.iter().any(|h| {
            h.action == "readjudication"
                && h.reason
                    .as_deref()
                    .is_some_and(|why| why.contains(&r.dispute_id))
        });
        let amount = r
            .amount_cents
            .map(|c| format!(" (${} found owed)", mso_domain::money::Money::from_cents(c)))
            .unwrap_or_default();
        let reason = format!(
            "Dispute {} was decided {}{amount}: a claims examiner re-adjudicates the claim.",
            r.dispute_id,
            r.outcome.replace('_', " ")
        );
        if noted || claim.readjudicate(reason, deps.clock.now()).is_err() {
            return Ok(Handled::Unchanged {
                claim_id: id.to_string(),
            });
        }
        let turn = Turn::take(store, &claim.submission.member_id).await?;
        match Change::updated(&stored, &claim)?
            .in_turn(&turn)
            .commit(deps.ports(), None)
            .await
        {
            Ok(()) => {
                return Ok(Handled::Readjudicated {
                    claim_id: id.to_string(),
                });
            }
            Err(StoreError::ConditionFailed) => backoff().await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(EditError::Contention)
}
