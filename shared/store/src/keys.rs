//! Every key of the single table, built here and nowhere else.
//!
//! | record            | pk                                   | sk                     | gsi1 pk                      | gsi1 sk                |
//! |-------------------|--------------------------------------|------------------------|------------------------------|------------------------|
//! | member + spans    | `MEMBER#<member_id>`                 | `MEMBER`               |                              |                        |
//! | provider (NPI)    | `PROVIDER#<npi>`                     | `PROVIDER`             | `ORG#<org_id>`               | `PROVIDER#<npi>`       |
//! | audit event       | `AUDIT#<yyyy-mm-dd>`                 | `<rfc3339>#<event_id>` | `AUDIT#ACTOR#<org>#<subject>`| `<rfc3339>#<event_id>` |
//! | idempotency claim | `IDEMPOTENCY#<org>#<scope digest>`   | `IDEMPOTENCY`          |                              |                        |
//! | roster import     | `IMPORT#<kind>`                      | `<rfc3339>`            |                              |                        |
//! | prior auth        | `PA#<id>`                            | `PA`                   |                              |                        |
//! | auth list row     | `PALIST#ORG#<org>`, `PALIST#ALL`, `PALIST#MEMBER#<member_id>` | `<received rfc3339>#<id>` |           |                        |
//! | UM queue row      | `UMQUEUE`                            | `<decision due>#<id>`  |                              |                        |
//! | auth timer        | `PATIMER`                            | `<due rfc3339>#<id>`   |                              |                        |
//! | outbox event      | `OUTBOX#<queue>`                     | `<rfc3339>#<event id>` |                              |                        |
//! | per-user counter  | `COUNTER#<org>#<user digest>`        | `<name>#<window start>`|                              |                        |
//! | document          | `DOC#<doc id>`                       | `DOC`                  |                              |                        |
//! | document link row | the owner's partition (`PA#<id>`, `CLM#<id>`, `DSP#<id>`) | `DOC#<doc id>` |                  |                        |
//! | owner's messages  | the owner's partition (`PA#<id>`, `CLM#<id>`, `DSP#<id>`) | `DOCMSG`       |                  |                        |
//! | dispute           | `DSP#<id>`                           | `DSP`                  |                              |                        |
//! | dispute list row  | `DSPLIST#ORG#<org>`, `DSPLIST#ALL`, `DSPLIST#SUBJECT#<claim or auth id>` | `<received rfc3339>#<id>` |  |                    |
//! | dispute queue row | `DSPQUEUE`                           | `<next due>#<id>`      |                              |                        |
//! | open-dispute guard| `DSPOPEN#<subject id>#<kind>#<reason category>` | `DSPOPEN`   |                              |                        |
//! | dispute timer     | `DSPTIMER`                           | `<due rfc3339>#<id>#<timer>` |                        |                        |
//! | claim             | `CLM#<id>`                           | `CLM`                  |                              |                        |
//! | claim list row    | `CLMLIST#ORG#<org>`, `CLMLIST#ALL`, `CLMLIST#MEMBER#<member_id>` | `<received rfc3339>#<id>` |   |                        |
//! | live-claim guard  | `CLMDUP#<sha-256 of member + services>` | `CLMDUP`            |                              |                        |
//! | member's claim turn | `CLMTURN#<sha-256 of member id>`   | `CLMTURN`              |                              |                        |
//! | claim file        | `CF#<id>`                            | `CF`                   |                              |                        |
//! | file's claim row  | `CF#<id>`                            | `CLAIM#<seq, 6 digits>`|                              |                        |
//! | intake item       | `INTAKE#<id>`                        | `INTAKE`               |                              |                        |
//! | intake list row   | `INTAKELIST#<status>`, `INTAKELIST#ALL` | `<received rfc3339>#<id>` |                        |                        |
//! | intake object claim | `INTAKEOBJ#<sha-256 of bucket, key, version>` | `INTAKEOBJ`  |                              |                        |
//!
//! Objects (S3 keys, embedded object paths) are built here too:
//!
//! | object            | key                                  |
//! |-------------------|--------------------------------------|
//! | uploaded document | `documents/<doc id>.<extension>`     |
//! | claim file (API)  | `claim-files/<CF id>.x12`            |
//! | claim file (clearinghouse drop) | `inbound/<any name>`   |
//! | a file's acknowledgement | `acks/<CF id>/<999.x12, 999.json, 277ca.x12, 277ca.json>` |
//! | intake fax        | `fax/<gateway's name>` (intake bucket), its sidecar `fax/<name without extension>.json` |
//! | intake email      | `email/<SES message id>` (intake bucket) |
//!
//! Object keys carry no PHI: no names, member IDs or file names, only the
//! document's reference ID and the extension of its declared type (so a
//! download is named `DOC-….pdf` and opens in the right application).
//!
//! The idempotency scope digest is a SHA-256 of the caller, route, path, query and
//! client key (see `mso_api::idempotency`). Sort keys that start with an RFC 3339
//! UTC instant sort by time.

use crate::Key;

pub fn member(member_id: &str) -> Key {
    Key::new(format!("MEMBER#{member_id}"), "MEMBER")
}

pub fn provider(npi: &str) -> Key {
    Key::new(format!("PROVIDER#{npi}"), "PROVIDER")
}

/// The gsi1 key that lists an organisation's providers.
pub fn provider_by_org(org_id: &str, npi: &str) -> Key {
    Key::new(org_providers_partition(org_id), format!("PROVIDER#{npi}"))
}

pub fn org_providers_partition(org_id: &str) -> String {
    format!("ORG#{org_id}")
}

pub fn audit_event(day: &str, at: &str, event_id: &str) -> Key {
    Key::new(audit_day_partition(day), format!("{at}#{event_id}"))
}

pub fn audit_day_partition(day: &str) -> String {
    format!("AUDIT#{day}")
}

/// The gsi1 key that lists what one user did.
pub fn audit_by_actor(org_id: &str, subject: &str, at: &str, event_id: &str) -> Key {
    Key::new(
        audit_actor_partition(org_id, subject),
        format!("{at}#{event_id}"),
    )
}

pub fn audit_actor_partition(org_id: &str, subject: &str) -> String {
    format!("AUDIT#ACTOR#{org_id}#{subject}")
}

pub fn idempotency(org_id: &str, scope_digest: &str) -> Key {
    Key::new(
        format!("IDEMPOTENCY#{org_id}#{scope_digest}"),
        "IDEMPOTENCY",
    )
}

pub fn roster_import(kind: &str, at: &str) -> Key {
    Key::new(format!("IMPORT#{kind}"), at.to_string())
}

/// A per-user counter in one time window (`mso_api::throttle`). The user is a
/// digest of their subject, so keys stay short and carry no e-mail addresses.
pub fn counter(org_id: &str, user_digest: &str, name: &str, window_start: i64) -> Key {
    Key::new(
        format!("COUNTER#{org_id}#{user_digest}"),
        format!("{name}#{window_start}"),
    )
}

/// An event waiting in the transactional outbox of `queue` (`mso_api::outbox`).
pub fn outbox(queue: &str, at: &str, event_id: &str) -> Key {
    Key::new(outbox_partition(queue), format!("{at}#{event_id}"))
}

pub fn outbox_partition(queue: &str) -> String {
    format!("{OUTBOX_PARTITION_PREFIX}{queue}")
}

/// What every outbox partition starts with: the table stream's filter for
/// `outbox-relay` (infra/template.yaml) matches it.
pub const OUTBOX_PARTITION_PREFIX: &str = "OUTBOX#";

pub fn prior_auth(id: &str) -> Key {
    Key::new(prior_auth_partition(id), "PA")
}

/// The partition of one auth: the auth, and its documents.
pub fn prior_auth_partition(id: &str) -> String {
    format!("PA#{id}")
}

/// The list of an organisation's auths, newest by receipt.
pub fn prior_auth_list_org(org_id: &str) -> String {
    format!("PALIST#ORG#{org_id}")
}

/// Every auth (IPA staff lists).
pub const PRIOR_AUTH_LIST_ALL: &str = "PALIST#ALL";

pub fn prior_auth_list_member(member_id: &str) -> String {
    format!("PALIST#MEMBER#{member_id}")
}

/// Pended auths by decision due (the UM queue).
pub const UM_QUEUE: &str = "UMQUEUE";

/// When the sweeper must look at an auth (deemed approval, expiry).
pub const PRIOR_AUTH_TIMERS: &str = "PATIMER";

pub fn dispute(id: &str) -> Key {
    Key::new(dispute_partition(id), "DSP")
}

/// The partition of one dispute: the dispute, and its documents.
pub fn dispute_partition(id: &str) -> String {
    format!("DSP#{id}")
}

/// The list of an organisation's disputes, newest by receipt.
pub fn dispute_list_org(org_id: &str) -> String {
    format!("DSPLIST#ORG#{org_id}")
}

/// Every dispute (IPA staff lists and the report).
pub const DISPUTE_LIST_ALL: &str = "DSPLIST#ALL";

/// The disputes of one claim or prior auth.
pub fn dispute_list_subject(subject_id: &str) -> String {
    format!("DSPLIST#SUBJECT#{subject_id}")
}

/// Open disputes by the next clock that runs out (the reviewers' queue).
pub const DISPUTE_QUEUE: &str = "DSPQUEUE";

/// When the sweeper must look at a dispute (overdue flags, closing).
pub const DISPUTE_TIMERS: &str = "DSPTIMER";

/// Held while a dispute on `subject_id` of `kind` for `reason_category` is
/// open: a second one is refused with the first one's ID.
pub fn dispute_open(subject_id: &str, kind: &str, reason_category: &str) -> Key {
    Key::new(
        format!("DSPOPEN#{subject_id}#{kind}#{reason_category}"),
        "DSPOPEN",
    )
}

pub fn document(id: &str) -> Key {
    Key::new(format!("DOC#{id}"), "DOC")
}

/// The sort-key prefix of the document rows in an owner's partition.
pub const DOCUMENT_LINK_PREFIX: &str = "DOC#";

/// A document's row in its owner's partition (`owner_partition`, e.g.
/// [`prior_auth_partition`]), so the owner's read lists its documents with one
/// query of its own partition.
pub fn document_link(owner_partition: &str, document_id: &str) -> Key {
    Key::new(
        owner_partition.to_string(),
        format!("{DOCUMENT_LINK_PREFIX}{document_id}"),
    )
}

/// The sort key of an owner's [`document_messages`] record.
pub const DOCUMENT_MESSAGES_SK: &str = "DOCMSG";

/// The sort-key prefix an owner's document rows and its [`document_messages`]
/// record share, so that one query of the owner's partition reads them together.
pub const DOCUMENT_ROWS_PREFIX: &str = "DOC";

/// How many document messages an owner has opened (the version of this record
/// serialises concurrent uploads to one owner).
pub fn document_messages(owner_partition: &str) -> Key {
    Key::new(owner_partition.to_string(), DOCUMENT_MESSAGES_SK)
}

/// Where every uploaded document's object lives.
pub const DOCUMENT_OBJECT_PREFIX: &str = "documents/";

/// The object key of a document: its reference ID and its type's extension.
pub fn document_object(document_id: &str, extension: &str) -> String {
    format!("{DOCUMENT_OBJECT_PREFIX}{document_id}.{extension}")
}

/// The document ID of an object key made by [`document_object`], if it is one.
pub fn document_of_object(key: &str) -> Option<&str> {
    let name = key.strip_prefix(DOCUMENT_OBJECT_PREFIX)?;
    let (id, extension) = name.rsplit_once('.')?;
    let plain =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (plain(id) && plain(extension)).then_some(id)
}

pub fn claim(id: &str) -> Key {
    Key::new(claim_partition(id), "CLM")
}

/// The partition of one claim: the claim, and its documents.
pub fn claim_partition(id: &str) -> String {
    format!("CLM#{id}")
}

/// The list of an organisation's claims, newest by receipt.
pub fn claim_list_org(org_id: &str) -> String {
    format!("CLMLIST#ORG#{org_id}")
}

/// Every claim (IPA staff lists).
pub const CLAIM_LIST_ALL: &str = "CLMLIST#ALL";

/// A member's claims (duplicate checks, member filters).
pub fn claim_list_member(member_id: &str) -> String {
    format!("CLMLIST#MEMBER#{member_id}")
}

/// The guard only one live claim may hold for the same member and services
/// (`digest`: a SHA-256 of them), so two identical claims judged at once cannot
/// both be accepted.
pub fn claim_guard(digest: &str) -> Key {
    Key::new(format!("CLMDUP#{digest}"), "CLMDUP")
}

/// The version row that serialises the judgements of one member's claims
/// (`digest`: a SHA-256 of the member ID, so the key carries no member ID).
pub fn claim_turn(digest: &str) -> Key {
    Key::new(format!("CLMTURN#{digest}"), "CLMTURN")
}

pub fn claim_file(id: &str) -> Key {
    Key::new(claim_file_partition(id), "CF")
}

/// The partition of one claim file: the file, and a row per claim in file order.
pub fn claim_file_partition(id: &str) -> String {
    format!("CF#{id}")
}

/// The sort-key prefix of a file's claim rows.
pub const CLAIM_FILE_ROW_PREFIX: &str = "CLAIM#";

/// The row of the `seq`-th claim (0-based) of a file.
pub fn claim_file_row(file_id: &str, seq: u32) -> Key {
    Key::new(
        claim_file_partition(file_id),
        format!("{CLAIM_FILE_ROW_PREFIX}{seq:06}"),
    )
}

/// Where a file posted through the API is kept (and what starts its processing).
pub const CLAIM_FILE_OBJECT_PREFIX: &str = "claim-files/";

pub fn claim_file_object(file_id: &str) -> String {
    format!("{CLAIM_FILE_OBJECT_PREFIX}{file_id}.x12")
}

/// The file ID of an object key made by [`claim_file_object`], if it is one.
pub fn claim_file_of_object(key: &str) -> Option<&str> {
    let id = key
        .strip_prefix(CLAIM_FILE_OBJECT_PREFIX)?
        .strip_suffix(".x12")?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(id)
}

/// Where a file's acknowledgements are kept (`999.x12`, `277ca.json`, ...):
/// a 277CA of thousands of claims is larger than a table item may be.
pub fn claim_ack_object(file_id: &str, name: &str) -> String {
    format!("acks/{file_id}/{name}")
}

/// Where clearinghouses drop 837 files.
pub const CLAIM_INBOUND_PREFIX: &str = "inbound/";

pub fn intake_item(id: &str) -> Key {
    Key::new(intake_partition(id), "INTAKE")
}

/// The partition of one intake item: the item, and its documents.
pub fn intake_partition(id: &str) -> String {
    format!("INTAKE#{id}")
}

/// Intake items in one status (`queued`, ...), oldest receipt first.
pub fn intake_list(status: &str) -> String {
    format!("INTAKELIST#{status}")
}

/// Every intake item, oldest receipt first.
pub const INTAKE_LIST_ALL: &str = "INTAKELIST#ALL";

/// The claim that one intake object (by a digest of its bucket, key and
/// version) was filed as an item: S3 delivers events at least once.
pub fn intake_object_claim(object_digest: &str) -> Key {
    Key::new(format!("INTAKEOBJ#{object_digest}"), "INTAKEOBJ")
}

/// Where the fax gateway drops faxes in the intake bucket.
pub const INTAKE_FAX_PREFIX: &str = "fax/";
/// Where SES drops raw email in the intake bucket (the receipt rule's prefix).
pub const INTAKE_EMAIL_PREFIX: &str = "email/";

/// The key of a fax the gateway (or `mso intake`) drops: `name` is the gateway's
/// own file name, which must carry no PHI.
pub fn intake_fax(name: &str) -> String {
    format!("{INTAKE_FAX_PREFIX}{name}")
}

/// The key of a raw email as SES stores it (`name` is SES's message ID).
pub fn intake_email(name: &str) -> String {
    format!("{INTAKE_EMAIL_PREFIX}{name}")
}

/// The sidecar JSON of a fax key (`fax/x.pdf` -> `fax/x.json`), which the
/// gateway writes before the fax; `None` when `key` is not a fax or is a sidecar.
pub fn intake_fax_sidecar(fax_key: &str) -> Option<String> {
    let name = fax_key.strip_prefix(INTAKE_FAX_PREFIX)?;
    if name.is_empty() || name.ends_with(".json") {
        return None;
    }
    let stem = name
        .rsplit_once('.')
        .filter(|(stem, ext)| !stem.is_empty() && !ext.contains('/'))
        .map_or(name, |(stem, _)| stem);
    Some(format!("{INTAKE_FAX_PREFIX}{stem}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_file_objects_round_trip() {
        let key = claim_file_object("CF-7K3Q9M2P4X");
        assert_eq!(key, "claim-files/CF-7K3Q9M2P4X.x12");
        assert_eq!(claim_file_of_object(&key), Some("CF-7K3Q9M2P4X"));
        for other in [
            "claim-files/.x12",
            "claim-files/a/b.x12",
            "inbound/CF-1.x12",
        ] {
            assert_eq!(claim_file_of_object(other), None, "{other}");
        }
        assert_eq!(claim_file_row("CF-1", 7).sk, "CLAIM#000007");
        assert!(
            claim_file_row("CF-1", 0)
                .sk
                .starts_with(CLAIM_FILE_ROW_PREFIX)
        );
    }

    #[test]
    fn intake_faxes_have_their_sidecar_beside_them() {
        assert_eq!(
            intake_fax_sidecar("fax/20260302-0915.pdf").as_deref(),
            Some("fax/20260302-0915.json")
        );
        assert_eq!(
            intake_fax_sidecar("fax/noext").as_deref(),
            Some("fax/noext.json")
        );
        assert_eq!(intake_fax_sidecar("fax/x.json"), None);
        assert_eq!(intake_fax_sidecar("email/abc"), None);
    }

    #[test]
    fn document_objects_round_trip_and_nothing_else_is_one() {
        let key = document_object("DOC-7K3Q9M2P4X", "pdf");
        assert_eq!(key, "documents/DOC-7K3Q9M2P4X.pdf");
        assert_eq!(document_of_object(&key), Some("DOC-7K3Q9M2P4X"));
        for other in [
            "documents/DOC-7K3Q9M2P4X",
            "documents/a/b.pdf",
            "intake/DOC-7K3Q9M2P4X.pdf",
            "documents/.pdf",
            "documents/DOC-1.",
        ] {
            assert_eq!(document_of_object(other), None, "{other}");
        }
    }

    #[test]
    fn document_rows_stay_apart_from_the_owner_record() {
        let owner = prior_auth_partition("PA-7K3Q9M");
        assert_eq!(
            document_link(&owner, "DOC-1").pk,
            prior_auth("PA-7K3Q9M").pk
        );
        // The messages record does not start with the link prefix, and both
        // start with the prefix an upload queries to read them together.
        let messages = document_messages(&owner);
        assert!(!messages.sk.starts_with(DOCUMENT_LINK_PREFIX));
        assert!(messages.sk.starts_with(DOCUMENT_ROWS_PREFIX));
        assert!(DOCUMENT_LINK_PREFIX.starts_with(DOCUMENT_ROWS_PREFIX));
        assert_eq!(messages.pk, document_link(&owner, "DOC-1").pk);
    }
}
