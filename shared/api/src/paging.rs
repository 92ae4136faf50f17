//! Paged lists: `?limit=&cursor=` in, `{items, next_cursor}` out. Cursors are the
//! store's sealed ones (see `mso_store::CursorKey`): opaque to the client and
//! refused (400) when altered.

use lambda_http::{Request, RequestExt};
use mso_domain::Invalid;
use mso_store::{Query, Record, RecordStore, StoreError};
use serde::Serialize;

use crate::FieldErrors;

/// Items per page unless the client asks otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;
/// Most records one request reads while filtering, so a sparse filter cannot
/// make one request scan a whole partition; the client continues with the cursor.
pub const MAX_SCANNED: usize = 1_000;

/// What page a client asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// Reads `limit` and `cursor` from the query string, recording bad ones.
    pub fn of(req: &Request, errors: &mut FieldErrors) -> Option<PageRequest> {
        let params = req.query_string_parameters_ref();
        let param = |name| params.and_then(|p| p.first(name));
        let limit = match param("limit") {
            None | Some("") => Some(DEFAULT_LIMIT),
            Some(s) => errors.check(
                "limit",
                s.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or(Invalid::new(
                        "invalid_limit",
                        "must be a whole number from 1 to 100",
                    )),
            ),
        };
        let cursor = param("cursor").filter(|c| !c.is_empty()).map(String::from);
        Some(PageRequest {
            limit: limit?,
            cursor,
        })
    }
}

/// One page of a list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Reads `query` from the requested position, keeping what `keep` maps to an
/// item, until the page is full, the records run out, or [`MAX_SCANNED`]
/// records were read (then the page may be short, with a cursor to go on).
/// Every store page asks for no more than the items still missing, so the
/// cursor never skips a record that was read but not returned.
pub async fn collect<T>(
    store: &dyn RecordStore,
    query: Query,
    page: &PageRequest,
    mut keep: impl FnMut(Record) -> Option<T>,
) -> Result<Listing<T>, StoreError> {
    let mut items = Vec::with_capacity(page.limit);
    let mut cursor = page.cursor.clone();
    let mut scanned = 0;
    loop {
        let wanted = page.limit - items.len();
        let result = store
            .query(query.clone().limit(wanted).after(cursor.take()))
            .await?;
        scanned += result.records.len();
        items.extend(result.records.into_iter().filter_map(&mut keep));
        match result.next {
            Some(next) if items.len() < page.limit && scanned < MAX_SCANNED => cursor = Some(next),
            next => {
                return Ok(Listing {
                    items,
                    next_cursor: next,
                });
            }
        }
    }
}
