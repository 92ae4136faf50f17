//! New reference IDs for records people read out on the phone.

use mso_domain::ids::{RecordKind, ReferenceId};

/// A random reference ID of `kind` (`PA-7K3Q9M`). Six characters give about a
/// billion IDs per kind; writers put new records with `Condition::Absent` and
/// draw again on the rare collision.
pub fn new_reference(kind: RecordKind) -> ReferenceId {
    let mut entropy = [0u8; 16];
    // The OS generator does not fail on the platforms Lambda and `mso serve`
    // run on; if it ever did, a time-based fallback still gives distinct IDs
    // and the Absent condition still guards against a collision.
    if getrandom::fill(&mut entropy).is_err() {
        entropy.copy_from_slice(&uuid::Uuid::now_v7().into_bytes());
    }
    ReferenceId::from_entropy(kind, &entropy).unwrap_or_else(|| unreachable!("16 bytes of entropy"))
}
