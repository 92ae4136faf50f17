//! Per-user limits on answers that help an attacker (eligibility's "no member
//! matches"), counted in fixed windows in the record store so every Lambda
//! instance sees the same count.

use jiff::Timestamp;
use mso_store::{Condition, Record, RecordStore, StoreError, keys};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Principal;

/// At most `limit` events per `window_seconds` for one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter in its key (`eligibility_not_found`).
    pub name: &'static str,
    pub limit: u32,
    pub window_seconds: i64,
}

/// Conditional-write retries before a contended increment gives up.
const ATTEMPTS: usize = 8;

impl Limit {
    fn window_start(&self, now: Timestamp) -> i64 {
        let s = now.as_second();
        s - s.rem_euclid(self.window_seconds.max(1))
    }

    fn key(&self, who: &Principal, now: Timestamp) -> mso_store::Key {
        let user = hex::encode(&Sha256::digest(who.subject.as_bytes())[..16]);
        keys::counter(who.org.as_str(), &user, self.name, self.window_start(now))
    }

    /// Seconds until `who` may try again, when they used up this window.
    pub async fn retry_after(
        &self,
        store: &dyn RecordStore,
        who: &Principal,
        now: Timestamp,
    ) -> Result<Option<u32>, StoreError> {
        let count = match store.get(&self.key(who, now)).await? {
            Some(record) => counted(&record),
            None => 0,
        };
        if count < u64::from(self.limit) {
            return Ok(None);
        }
        let ends = self.window_start(now) + self.window_seconds;
        Ok(Some(
            u32::try_from(ends - now.as_second()).unwrap_or(1).max(1),
        ))
    }

    /// Counts one event for `who` in the current window.
    pub async fn count(
        &self,
        store: &dyn RecordStore,
        who: &Principal,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let key = self.key(who, now);
        // Kept a window past its end, then DynamoDB's TTL removes it.
        let expires = self.window_start(now) + 2 * self.window_seconds;
        for _ in 0..ATTEMPTS {
            let (count, version, condition) = match store.get(&key).await? {
                Some(r) => (counted(&r), r.version + 1, Condition::VersionIs(r.version)),
                None => (0, 1, Condition::Absent),
            };
            let record = Record::new(key.clone(), json!({ "count": count + 1 }))
                .with_version(version)
                .with_expiry(expires);
            // A count lost in a crash only forgives one answer: it need not cost
            // the (not-found) lookup a disk flush.
            match store.put_lazy(record, condition).await {
                Ok(()) => return Ok(()),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::unavailable(
            "counting a throttled event",
            "too much contention on one counter",
        ))
    }
}

/// The count a window's record holds (0 for one unreadable: a count lost
/// only forgives one answer).
fn counted(record: &Record) -> u64 {
    #[derive(serde::Deserialize)]
    struct Counter {
        count: u64,
    }
    record.body.decode::<Counter>().map_or(0, |c| c.count)
}
