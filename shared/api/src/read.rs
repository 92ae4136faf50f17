//! What can go wrong on a read route (one record, or a list), mapped to a
//! status in one place: every function's reads answer the same way.

use lambda_http::http::StatusCode;
use mso_store::StoreError;
use serde::Serialize;

use crate::{AuthError, Body, FieldError, Forbidden, Problem, Response, json_response, paging};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid query")]
    Invalid(Vec<FieldError>),
    /// Absent, or not visible to the caller (never told apart).
    #[error("not found")]
    NotFound,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<ReadError> for Problem {
    fn from(e: ReadError) -> Problem {
        match e {
            ReadError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            ReadError::Forbidden(e) => e.into(),
            ReadError::Invalid(errors) => Problem::invalid_request(errors),
            ReadError::NotFound => Problem::not_found(),
            // The only invalid input a read sends the store is a client's cursor.
            ReadError::Store(StoreError::InvalidInput(_)) => paging::invalid_cursor(),
            ReadError::Store(_) => Problem::unavailable(),
        }
    }
}

/// 200 with the value, or the problem; a storage failure is logged as a failed
/// read of `what` (`"claim"`), without the request.
pub fn answer<T: Serialize>(what: &str, result: Result<T, ReadError>) -> Response<Body> {
    match result {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(e) => {
            if let ReadError::Store(store) = &e {
                tracing::error!(error = %store, "{what} read failed");
            }
            Problem::from(e).into_response()
        }
    }
}
