//! Members and providers in the record store: the typed face of the keys in
//! `mso_store::keys` that every function reads the same way.

use mso_domain::ids::{MemberId, Npi};
use mso_domain::member::Member;
use mso_domain::provider::Provider;
use mso_store::{Condition, Record, RecordStore, StoreError, WriteOp, keys};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub async fn member(store: &dyn RecordStore, id: &MemberId) -> Result<Option<Member>, StoreError> {
    get(store, &keys::member(id.as_str()), "reading a member").await
}

pub async fn provider(store: &dyn RecordStore, npi: &Npi) -> Result<Option<Provider>, StoreError> {
    get(store, &keys::provider(npi.as_str()), "reading a provider").await
}

/// A member record as [`RecordStore::get_many`] answered it, with other keys.
pub fn decode_member(record: Option<Record>) -> Result<Option<Member>, StoreError> {
    decode(record, "reading a member")
}

/// The members `ids` names, in their order (`None` for an unknown ID),
/// [`mso_store::MAX_GET_MANY_KEYS`] to a request, however many.
pub async fn members(
    store: &dyn RecordStore,
    ids: &[&MemberId],
) -> Result<Vec<Option<Member>>, StoreError> {
    let mut members = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(mso_store::MAX_GET_MANY_KEYS) {
        members.extend(members_and_providers(store, chunk, &[]).await?.0);
    }
    Ok(members)
}

/// The providers `npis` names, in their order (`None` for an unknown NPI),
/// [`mso_store::MAX_GET_MANY_KEYS`] to a request, however many.
pub async fn providers(
    store: &dyn RecordStore,
    npis: &[&Npi],
) -> Result<Vec<Option<Provider>>, StoreError> {
    let mut providers = Vec::with_capacity(npis.len());
    for chunk in npis.chunks(mso_store::MAX_GET_MANY_KEYS) {
        providers.extend(members_and_providers(store, &[], chunk).await?.1);
    }
    Ok(providers)
}

/// Members and providers read together, in one request (`RecordStore::get_many`):
/// each list answered in its order, `None` for an unknown ID or NPI.
pub async fn members_and_providers(
    store: &dyn RecordStore,
    members: &[&MemberId],
    providers: &[&Npi],
) -> Result<(Vec<Option<Member>>, Vec<Option<Provider>>), StoreError> {
    let keys: Vec<mso_store::Key> = members
        .iter()
        .map(|id| keys::member(id.as_str()))
        .chain(providers.iter().map(|npi| keys::provider(npi.as_str())))
        .collect();
    let mut records = store.get_many(&keys).await?.into_iter();
    let members = records
        .by_ref()
        .take(members.len())
        .map(decode_member)
        .collect::<Result<_, _>>()?;
    let providers = records
        .map(|r| decode(r, "reading a provider"))
        .collect::<Result<_, _>>()?;
    Ok((members, providers))
}

/// The writes that store (or replace) members; transact them in chunks of at most
/// 100 with [`write_all`].
pub fn member_writes(members: &[Member]) -> Result<Vec<WriteOp>, StoreError> {
    members
        .iter()
        .map(|m| put(keys::member(m.member_id.as_str()), None, m))
        .collect()
}

pub fn provider_writes(providers: &[Provider]) -> Result<Vec<WriteOp>, StoreError> {
    providers
        .iter()
        .map(|p| {
            put(
                keys::provider(p.npi.as_str()),
                Some(keys::provider_by_org(p.org_id.as_str(), p.npi.as_str())),
                p,
            )
        })
        .collect()
}

/// Applies writes in transactions of at most 100 operations (DynamoDB's limit).
pub async fn write_all(store: &dyn RecordStore, ops: Vec<WriteOp>) -> Result<(), StoreError> {
    let mut ops = ops.into_iter().peekable();
    while ops.peek().is_some() {
        store.transact(ops.by_ref().take(100).collect()).await?;
    }
    Ok(())
}

fn put<T: Serialize>(
    key: mso_store::Key,
    index: Option<mso_store::Key>,
    value: &T,
) -> Result<WriteOp, StoreError> {
    let body = mso_store::Body::of(value)
        .map_err(|e| StoreError::backend("serialising a directory record", e))?;
    let mut record = Record::new(key, body);
    record.index_key = index;
    Ok(WriteOp::Put {
        record,
        condition: Condition::None,
    })
}

async fn get<T: DeserializeOwned>(
    store: &dyn RecordStore,
    key: &mso_store::Key,
    context: &'static str,
) -> Result<Option<T>, StoreError> {
    decode(store.get(key).await?, context)
}

fn decode<T: DeserializeOwned>(
    record: Option<Record>,
    context: &'static str,
) -> Result<Option<T>, StoreError> {
    match record {
        Some(record) => record
            .body
            .decode()
            .map(Some)
            .map_err(|e| StoreError::backend(context, e)),
        None => Ok(None),
    }
}
