//! An intake item's life: it arrives `queued` (waiting for a clerk, with what was
//! found and any problems), or `linked` at once when a reference it quotes names
//! a record that exists; a clerk links a queued item to a record, or files a new
//! record from it (`filed`). `failed` is an item whose object could not be read
//! at all (deleted before the handler read it): kept, with the reason, so nothing
//! that arrived is lost without a trace.
//!
//! The receipt time of the fax or email is the legal start of whatever is filed
//! from the item, so how long it waited is measured from it.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Invalid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Queued,
    Linked,
    Filed,
    Failed,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] = [
        ItemStatus::Queued,
        ItemStatus::Linked,
        ItemStatus::Filed,
        ItemStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Queued => "queued",
            ItemStatus::Linked => "linked",
            ItemStatus::Filed => "filed",
            ItemStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<ItemStatus, Invalid> {
        ItemStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(Invalid::new(
                "invalid_status",
                "must be one of queued, linked, filed, failed",
            ))
    }

    /// Whether a clerk still has to act on it.
    pub fn is_open(self) -> bool {
        matches!(self, ItemStatus::Queued | ItemStatus::Failed)
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an item cannot be linked or filed from where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    AlreadyLinked,
    AlreadyFiled,
}

impl Closed {
    pub fn code(self) -> &'static str {
        match self {
            Closed::AlreadyLinked => "already_linked",
            Closed::AlreadyFiled => "already_filed",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Closed::AlreadyLinked => "the item is already linked to a record",
            Closed::AlreadyFiled => "a record was already filed from the item",
        }
    }
}

/// A clerk may link an open item (queued, or failed with what could be kept).
pub fn may_link(status: ItemStatus) -> Result<ItemStatus, Closed> {
    match status {
        ItemStatus::Queued | ItemStatus::Failed => Ok(ItemStatus::Linked),
        ItemStatus::Linked => Err(Closed::AlreadyLinked),
        ItemStatus::Filed => Err(Closed::AlreadyFiled),
    }
}

/// A clerk may file a new record from an open item.
pub fn may_file(status: ItemStatus) -> Result<ItemStatus, Closed> {
    may_link(status).map(|_| ItemStatus::Filed)
}

/// How long the item waited: from receipt to when it was linked or filed, or
/// to `now` while it is open. Never negative (a gateway clock ahead of ours).
pub fn waited(
    received_at: Timestamp,
    closed_at: Option<Timestamp>,
    now: Timestamp,
) -> SignedDuration {
    let end = closed_at.unwrap_or(now);
    end.duration_since(received_at).max(SignedDuration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_items_are_linked_or_filed_once() {
        assert_eq!(may_link(ItemStatus::Queued), Ok(ItemStatus::Linked));
        assert_eq!(may_file(ItemStatus::Queued), Ok(ItemStatus::Filed));
        assert_eq!(may_file(ItemStatus::Failed), Ok(ItemStatus::Filed));
        assert_eq!(may_link(ItemStatus::Linked), Err(Closed::AlreadyLinked));
        assert_eq!(may_file(ItemStatus::Filed), Err(Closed::AlreadyFiled));
        assert_eq!(may_link(ItemStatus::Filed), Err(Closed::AlreadyFiled));
    }

    #[test]
    fn statuses_read_back_and_refuse_others() {
        for s in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(s.as_str()), Ok(s));
        }
        assert_eq!(
            ItemStatus::parse("open").unwrap_err().code,
            "invalid_status"
        );
    }

    #[test]
    fn waiting_runs_from_receipt_until_closed() {
        let received: Timestamp = "2026-03-02T09:15:00Z".parse().unwrap();
        let now: Timestamp = "2026-03-04T09:15:00Z".parse().unwrap();
        assert_eq!(waited(received, None, now), SignedDuration::from_hours(48));
        let linked: Timestamp = "2026-03-02T10:15:00Z".parse().unwrap();
        assert_eq!(
            waited(received, Some(linked), now),
            SignedDuration::from_hours(1)
        );
        // A receipt time in our future waited nothing.
        assert_eq!(waited(now, None, received), SignedDuration::ZERO);
    }
}
