//! Storing a record together with the rows derived from it (its "views": list
//! rows per organisation and member, a queue row while it waits for review, the
//! sweeper's timers), all in one transaction, so a list never shows a state the
//! record is not in.
//!
//! A record is written with optimistic concurrency (its version); views are
//! recomputed from the new state and only the rows that changed are written or
//! deleted. The caller adds its own writes (outbox event, audit record,
//! idempotency completion) to the same transaction.

use mso_store::{Condition, Key, Record, RecordStore, StoreError, WriteOp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record with derived rows.
pub trait Aggregate: Serialize + DeserializeOwned {
    /// Where the record itself is stored.
    fn key(&self) -> Key;
    /// Every row derived from the current state.
    fn views(&self) -> Vec<Record>;
}

/// A record as read, with the version an update must match.
#[derive(Clone, Debug)]
pub struct Stored<T> {
    pub value: T,
    pub version: u64,
}

impl<T> Stored<T> {
    /// `value` as [`create`] has just stored it, without reading it back.
    pub fn created(value: T) -> Stored<T> {
        Stored {
            value,
            version: mso_store::FIRST_VERSION,
        }
    }
}

/// Reads the record at `key`.
pub async fn load<T: Aggregate>(
    store: &dyn RecordStore,
    key: &Key,
) -> Result<Option<Stored<T>>, StoreError> {
    store.get(key).await?.map(decode).transpose()
}

/// Reads the records at `keys`, answered in their order,
/// [`mso_store::MAX_GET_MANY_KEYS`] to a request, however many.
pub async fn load_many<T: Aggregate>(
    store: &dyn RecordStore,
    keys: &[Key],
) -> Result<Vec<Option<Stored<T>>>, StoreError> {
    let mut loaded = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(mso_store::MAX_GET_MANY_KEYS) {
        for record in store.get_many(chunk).await? {
            loaded.push(record.map(decode).transpose()?);
        }
    }
    Ok(loaded)
}

/// The record as [`load`] reads it, for a caller that read it with others (one
/// `get_many` of different kinds of records).
pub fn decode<T: Aggregate>(record: Record) -> Result<Stored<T>, StoreError> {
    let value = record
        .body
        .decode()
        .map_err(|e| StoreError::backend("reading a stored record", e))?;
    Ok(Stored {
        value,
        version: record.version,
    })
}

fn body<T: Serialize>(value: &T) -> Result<mso_store::Body, StoreError> {
    mso_store::Body::of(value).map_err(|e| StoreError::backend("serialising a record", e))
}

/// The writes that create `value` (failing if its key is taken) and its views.
pub fn create<T: Aggregate>(value: &T) -> Result<Vec<WriteOp>, StoreError> {
    let mut ops = vec![WriteOp::Put {
        record: Record::new(value.key(), body(value)?),
        condition: Condition::Absent,
    }];
    ops.extend(value.views().into_iter().map(|record| WriteOp::Put {
        record,
        condition: Condition::None,
    }));
    Ok(ops)
}

/// The writes that replace `old` by `new` (failing if someone else changed it
/// since it was read), and bring the views in line: rows that disappeared are
/// deleted, rows that are new or changed are written, the rest left alone.
pub fn update<T: Aggregate>(old: &Stored<T>, new: &T) -> Result<Vec<WriteOp>, StoreError> {
    let mut ops = vec![WriteOp::Put {
        record: Record::new(new.key(), body(new)?).with_version(old.version + 1),
        condition: Condition::VersionIs(old.version),
    }];
    let before = old.value.views();
    let after = new.views();
    for gone in before
        .iter()
        .filter(|b| !after.iter().any(|a| a.key == b.key))
    {
        ops.push(WriteOp::Delete {
            key: gone.key.clone(),
            condition: Condition::None,
        });
    }
    for row in after {
        if !before.contains(&row) {
            ops.push(WriteOp::Put {
                record: row,
                condition: Condition::None,
            });
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Serialize, Deserialize, Clone)]
    struct Ticket {
        id: String,
        open: bool,
        title: String,
    }

    impl Aggregate for Ticket {
        fn key(&self) -> Key {
            Key::new(format!("T#{}", self.id), "T")
        }
        fn views(&self) -> Vec<Record> {
            let mut rows = vec![Record::new(
                Key::new("LIST", self.id.clone()),
                json!({"title": self.title}),
            )];
            if self.open {
                rows.push(Record::new(Key::new("OPEN", self.id.clone()), json!({})));
            }
            rows
        }
    }

    #[test]
    fn updates_write_only_what_changed() {
        let old = Stored {
            value: Ticket {
                id: "1".into(),
                open: true,
                title: "a".into(),
            },
            version: 4,
        };
        let closed = Ticket {
            open: false,
            ..old.value.clone()
        };
        let ops = update(&old, &closed).unwrap();
        assert_eq!(ops.len(), 2, "record + delete of the OPEN row: {ops:?}");
        assert!(
            matches!(&ops[0], WriteOp::Put { condition: Condition::VersionIs(4), record } if record.version == 5)
        );
        assert!(matches!(&ops[1], WriteOp::Delete { key, .. } if key.pk == "OPEN"));
        let renamed = Ticket {
            title: "b".into(),
            ..old.value.clone()
        };
        let ops = update(&old, &renamed).unwrap();
        assert_eq!(ops.len(), 2, "record + the LIST row: {ops:?}");
        let created = create(&old.value).unwrap();
        assert_eq!(created.len(), 3);
        assert!(matches!(
            &created[0],
            WriteOp::Put {
                condition: Condition::Absent,
                ..
            }
        ));
    }
}
