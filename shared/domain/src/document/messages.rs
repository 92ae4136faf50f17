//! Which message a new document travels in.
//!
//! A provider's documents for one record (an auth, a claim, a dispute, an
//! intake item) go in messages of at most `attachments.max_per_message` files,
//! as payer portals send them (EmblemHealth: five per message, later ones in
//! follow-up messages linked by reference ID). Messages are numbered from 1 per
//! record.
//!
//! - Without a requested message, a document joins the last message while it
//!   has room, and otherwise opens the next one (a follow-up, which the record's
//!   history notes).
//! - A client may name the message: an open one with room, or the next number
//!   to open it. A full message refuses the document; a number beyond the next
//!   does not exist.
//! - A rejected document frees its place, so a corrected file can replace it in
//!   the same message. A document awaiting its upload holds its place.

use crate::Invalid;

/// Where a new document goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The message number, from 1.
    pub message: u32,
    /// The document opens a follow-up message (number 2 or more).
    pub follow_up: bool,
}

/// Why a document cannot go in the requested message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The named message already holds `max` documents.
    MessageFull { message: u32, max: u32 },
    /// The named message is neither open nor the next to open.
    NoSuchMessage { requested: u32, last: u32 },
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::MessageFull { .. } => "message_full",
            Refused::NoSuchMessage { .. } => "no_such_message",
        }
    }

    /// What the provider reads; names numbers only.
    pub fn message(self) -> String {
        match self {
            Refused::MessageFull { message, max } => format!(
                "message {message} already holds {max} documents, the most one message may hold; \
                 leave out `message` to open a follow-up message"
            ),
            Refused::NoSuchMessage {
                requested: _,
                last: 0,
            } => "there are no messages yet: name message 1 or leave out `message`".to_owned(),
            Refused::NoSuchMessage { requested: _, last } => format!(
                "must be an open message (1 to {last}) or {} to open a follow-up",
                last + 1
            ),
        }
    }

    pub fn invalid(self) -> Invalid {
        Invalid::owned(self.code(), self.message())
    }
}

/// Places a new document. `live[i]` is how many documents of message `i + 1`
/// are awaiting their upload or available (rejected ones not counted); its
/// length is the number of messages opened so far. `requested` is the message
/// the client named, if any; `max_per_message` is at least 1.
pub fn place(
    live: &[u32],
    requested: Option<u32>,
    max_per_message: u32,
) -> Result<Placement, Refused> {
    let max = max_per_message.max(1);
    let last = u32::try_from(live.len()).unwrap_or(u32::MAX);
    let room = |message: u32| live[(message - 1) as usize] < max;
    let message = match requested {
        None if last == 0 => 1,
        None if room(last) => last,
        None => last + 1,
        Some(n) if n >= 1 && n <= last => {
            if !room(n) {
                return Err(Refused::MessageFull { message: n, max });
            }
            n
        }
        Some(n) if n == last.saturating_add(1) => n,
        Some(requested) => return Err(Refused::NoSuchMessage { requested, last }),
    };
    Ok(Placement {
        message,
        follow_up: message > last && message > 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(message: u32, follow_up: bool) -> Result<Placement, Refused> {
        Ok(Placement { message, follow_up })
    }

    #[test]
    fn the_first_document_opens_message_one() {
        assert_eq!(place(&[], None, 5), at(1, false));
        assert_eq!(place(&[], Some(1), 5), at(1, false));
        assert_eq!(
            place(&[], Some(2), 5),
            Err(Refused::NoSuchMessage {
                requested: 2,
                last: 0
            })
        );
    }

    #[test]
    fn documents_fill_the_last_message_then_open_a_follow_up() {
        assert_eq!(place(&[4], None, 5), at(1, false));
        assert_eq!(place(&[5], None, 5), at(2, true));
        assert_eq!(place(&[5, 5], None, 5), at(3, true));
        // An earlier message with room (a rejected file) is not refilled unasked.
        assert_eq!(place(&[3, 1], None, 5), at(2, false));
    }

    #[test]
    fn a_named_message_must_have_room() {
        assert_eq!(place(&[5, 2], Some(2), 5), at(2, false));
        assert_eq!(place(&[3, 5], Some(1), 5), at(1, false));
        assert_eq!(
            place(&[5, 2], Some(1), 5),
            Err(Refused::MessageFull { message: 1, max: 5 })
        );
        assert_eq!(place(&[5, 2], Some(3), 5), at(3, true));
        assert_eq!(
            place(&[5, 2], Some(4), 5),
            Err(Refused::NoSuchMessage {
                requested: 4,
                last: 2
            })
        );
        assert_eq!(
            place(&[5], Some(0), 5),
            Err(Refused::NoSuchMessage {
                requested: 0,
                last: 1
            })
        );
    }

    #[test]
    fn a_rejected_document_frees_its_place() {
        // Five placed, one rejected: four live, so the sixth file fits.
        assert_eq!(place(&[4], Some(1), 5), at(1, false));
    }

    #[test]
    fn messages_name_numbers_only() {
        let full = Refused::MessageFull { message: 1, max: 5 };
        assert_eq!(full.code(), "message_full");
        assert!(
            full.message()
                .starts_with("message 1 already holds 5 documents")
        );
        assert!(
            Refused::NoSuchMessage {
                requested: 9,
                last: 2
            }
            .message()
            .contains("(1 to 2) or 3")
        );
    }
}
