//! Idempotent POSTs (`Idempotency-Key`), as Stripe and AWS Powertools do them.
//!
//! - The same key and body replay the first answer (`Idempotent-Replayed: true`).
//! - The same key with a different body is 422.
//! - While the first request is still running, a duplicate is 409 with `Retry-After`.
//! - Keys are scoped to (organisation, caller, route, concrete path, query, key)
//!   and live 24 hours: the same key sent to `/PA-1/decision` and `/PA-2/decision`
//!   is two requests, and another user of the organisation who reuses a key runs
//!   their own request (and its authorisation) instead of replaying someone else's.
//!
//! The key is claimed with a conditional put (absent, or expired, or an in-progress
//! claim whose lease ran out because its Lambda died); a refused put brings back
//! the record that refused it, so a replay is one request. The handler then either
//! completes it (ideally in the same transaction as its own writes, via
//! [`Ticket::completion`]) or releases it when nothing was done, so the client may
//! retry.

use jiff::Timestamp;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use mso_domain::Invalid;
use mso_domain::ids::OrgId;
use mso_store::{Condition, Key, PutOutcome, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{FieldError, Principal, Problem, route_key};

/// The request header carrying the key.
pub const HEADER: &str = "Idempotency-Key";

/// How long a completed answer is replayed.
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;
/// How long an in-progress claim blocks duplicates before another request may take
/// it over (longer than any function's timeout).
pub const LEASE_SECONDS: i64 = 60;

/// A client-chosen key: 1 to 255 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<IdempotencyKey, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::required());
        }
        if s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Invalid::new(
                "invalid_idempotency_key",
                "must be 1 to 255 printable ASCII characters",
            ));
        }
        Ok(IdempotencyKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `Idempotency-Key` header of `req`, which a POST that creates must carry.
    pub fn of(req: &Request) -> Result<IdempotencyKey, FieldError> {
        let raw = req
            .headers()
            .get(HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}"))
            .unwrap_or_default();
        IdempotencyKey::parse(raw).map_err(|e| FieldError::new(HEADER, &e))
    }
}

/// The key and the JSON body's fields of a keyed POST, with every problem of
/// both at once: a missing or bad key beside the body's field errors (or the
/// body's own problem, when it is not a JSON object).
pub fn key_and_body<T>(
    req: &Request,
    parse: impl FnOnce(&serde_json::Map<String, serde_json::Value>) -> Result<T, Vec<FieldError>>,
) -> Result<(IdempotencyKey, T), Vec<FieldError>> {
    let key = IdempotencyKey::of(req);
    match crate::body::object(req.body().as_ref()) {
        Ok(root) => match (key, parse(&root)) {
            (Ok(key), Ok(value)) => Ok((key, value)),
            (key, value) => {
                let mut errors: Vec<FieldError> = key.err().into_iter().collect();
                errors.extend(value.err().unwrap_or_default());
                Err(errors)
            }
        },
        Err(problem) => {
            let mut errors = problem.errors;
            errors.extend(key.err());
            Err(errors)
        }
    }
}

/// One attempt at an idempotent request: who sent what, where.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub org: &'a OrgId,
    /// The caller's `sub`: keys are per user, so a key reused by a colleague never
    /// replays an answer their own authorisation was not checked for.
    pub subject: &'a str,
    /// The route key (`POST /v1/prior-auths/{id}/decision`).
    pub route: &'a str,
    /// The concrete path (`/v1/prior-auths/PA-7K3Q9M/decision`).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub key: &'a IdempotencyKey,
    pub body: &'a [u8],
}

impl<'a> Attempt<'a> {
    /// The attempt `req` makes, as `principal`, with `key`.
    pub fn of(req: &'a Request, principal: &'a Principal, key: &'a IdempotencyKey) -> Self {
        Attempt {
            org: &principal.org,
            subject: &principal.subject,
            route: route_key(req).unwrap_or_default(),
            path: req.raw_http_path(),
            query: req.uri().query().unwrap_or_default(),
            key,
            body: req.body().as_ref(),
        }
    }

    /// What the record is stored under: everything but the body, hashed, so the
    /// key stays short and carries nothing the client wrote in the clear.
    fn scope_digest(&self) -> String {
        digest(&[
            self.subject.as_bytes(),
            self.route.as_bytes(),
            self.path.as_bytes(),
            self.query.as_bytes(),
            self.key.as_str().as_bytes(),
        ])
    }

    /// What makes two attempts with one key "the same request".
    fn request_hash(&self) -> String {
        digest(&[
            self.subject.as_bytes(),
            self.route.as_bytes(),
            self.path.as_bytes(),
            self.query.as_bytes(),
            self.body,
        ])
    }
}

/// SHA-256 of length-prefixed parts (so no two part lists hash alike).
fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// The answer stored for replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl StoredResponse {
    pub fn into_replay(self) -> Response<Body> {
        let mut resp = Response::new(Body::Text(self.body));
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let h = resp.headers_mut();
        if let Ok(ct) = HeaderValue::from_str(&self.content_type) {
            h.insert("content-type", ct);
        }
        h.insert("cache-control", HeaderValue::from_static("no-store"));
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
        resp
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Claim {
    InProgress {
        request_hash: String,
        lease_until: i64,
    },
    Complete {
        request_hash: String,
        response: StoredResponse,
    },
}

/// The right to run the request once.
#[derive(Debug)]
pub struct Ticket {
    key: Key,
    version: u64,
    request_hash: String,
}

/// What to do with an incoming request.
#[derive(Debug)]
pub enum Outcome {
    /// First time (or a dead attempt's lease ran out): run it, then complete or release.
    Proceed(Ticket),
    /// Done before: answer this again.
    Replay(StoredResponse),
    /// The first request is still running.
    InProgress { retry_after_seconds: u32 },
    /// The key was used with a different request.
    Mismatch,
}

impl Outcome {
    /// The ticket to run the request with, or, for every other outcome, the
    /// answer to send instead (a replay, 409 in progress, 422 key reused).
    // The error is the answer itself, returned straight to the client.
    #[allow(clippy::result_large_err)]
    pub fn proceed(self) -> Result<Ticket, Response<Body>> {
        Err(match self {
            Outcome::Proceed(ticket) => return Ok(ticket),
            Outcome::Replay(stored) => stored.into_replay(),
            Outcome::InProgress {
                retry_after_seconds,
            } => Problem::new(
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "A request with this Idempotency-Key is in progress",
            )
            .with_detail("Retry after the first request finishes; it will then be replayed.")
            .with_retry_after(retry_after_seconds)
            .into_response(),
            Outcome::Mismatch => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "This Idempotency-Key was used with a different request",
            )
            .with_detail("Use a new Idempotency-Key for a different request.")
            .into_response(),
        })
    }

    /// The response for every outcome but `Proceed`.
    pub fn into_response(self) -> Option<Response<Body>> {
        self.proceed().err()
    }
}

/// Claims the attempt's key, or says what to answer instead.
pub async fn begin(
    store: &dyn RecordStore,
    attempt: &Attempt<'_>,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let record_key = keys::idempotency(attempt.org.as_str(), &attempt.scope_digest());
    let request_hash = attempt.request_hash();
    let now_s = now.as_second();
    let claim = |version| {
        let body = Claim::InProgress {
            request_hash: request_hash.clone(),
            lease_until: now_s + LEASE_SECONDS,
        };
        Record::new(record_key.clone(), to_json(&body))
            .with_version(version)
            .with_expiry(now_s + RETENTION_SECONDS)
    };

    // Losing the claim in a crash is harmless (the request never completed, and
    // its retry claims again), so it need not wait for a disk flush; the
    // request's own durable write makes it durable too. A refused claim comes
    // back with the record that refused it: a replay costs no second read.
    let existing = match store
        .put_lazy_or_get(claim(1), Condition::AbsentOrExpired { now: now_s })
        .await?
    {
        PutOutcome::Written => {
            return Ok(Outcome::Proceed(Ticket {
                key: record_key,
                version: 1,
                request_hash,
            }));
        }
        PutOutcome::Refused(Some(existing)) => existing,
        // Released between the claim and its refusal: the client may simply retry.
        PutOutcome::Refused(None) => {
            return Ok(Outcome::InProgress {
                retry_after_seconds: 1,
            });
        }
    };

    // Someone holds the key. Decide from what they stored.
    let existing_claim: Claim = existing
        .body
        .decode()
        .map_err(|e| StoreError::backend("reading an idempotency record", e))?;
    match existing_claim {
        Claim::Complete {
            request_hash: h, ..
        }
        | Claim::InProgress {
            request_hash: h, ..
        } if h != request_hash => Ok(Outcome::Mismatch),
        Claim::Complete { response, .. } => Ok(Outcome::Replay(response)),
        Claim::InProgress { lease_until, .. } if lease_until > now_s => Ok(Outcome::InProgress {
            retry_after_seconds: u32::try_from(lease_until - now_s).unwrap_or(1).clamp(1, 60),
        }),
        Claim::InProgress { .. } => {
            // The first attempt died holding the lease: take over, unless a
            // concurrent retry took over first.
            let version = existing.version + 1;
            match store
                .put(claim(version), Condition::VersionIs(existing.version))
                .await
            {
                Ok(()) => Ok(Outcome::Proceed(Ticket {
                    key: record_key,
                    version,
                    request_hash,
                })),
                Err(StoreError::ConditionFailed) => Ok(Outcome::InProgress {
                    retry_after_seconds: 1,
                }),
                Err(e) => Err(e),
            }
        }
    }
}

impl Ticket {
    /// The write that completes the claim with its answer; put it in the same
    /// transaction as the request's own writes so both happen or neither does.
    pub fn completion(&self, response: &StoredResponse, now: Timestamp) -> WriteOp {
        let body = Claim::Complete {
            request_hash: self.request_hash.clone(),
            response: response.clone(),
        };
        WriteOp::Put {
            record: Record::new(self.key.clone(), to_json(&body))
                .with_version(self.version + 1)
                .with_expiry(now.as_second() + RETENTION_SECONDS),
            condition: Condition::VersionIs(self.version),
        }
    }

    /// Completes the claim on its own (when the request wrote nothing else).
    pub async fn complete(
        self,
        store: &dyn RecordStore,
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        store.transact(vec![self.completion(response, now)]).await
    }

    /// Gives the key back (nothing was done: invalid input, or a failure before any
    /// write), so the client may retry with the same key.
    pub async fn release(self, store: &dyn RecordStore) -> Result<(), StoreError> {
        store
            .transact(vec![WriteOp::Delete {
                key: self.key,
                condition: Condition::VersionIs(self.version),
            }])
            .await
    }
}

fn to_json(claim: &Claim) -> serde_json::Value {
    // A plain enum of strings and integers always serialises.
    serde_json::to_value(claim).unwrap_or_default()
}
